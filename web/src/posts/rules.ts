// Client-side checks that mirror the post and upload functions' rules, so
// most mistakes are caught before a round trip. The server stays the judge.
import { limits } from '../api/limits';
import { charLength } from '../text/charLength';

// Declared once, in the API contract (limits.ts is generated from it).
export const MAX_POST_CHARS = limits.PostText.maxLength;
export const MAX_PICTURE_BYTES = limits.Picture.maxLength;
export const PICTURE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** A post needs text, a picture or both: text may be blank only with a picture. */
export function validatePostText(text: string, hasPicture = false): string | undefined {
  const n = charLength(text.trim());
  if (n === 0 && !hasPicture) return 'Write something or add a picture.';
  if (n > MAX_POST_CHARS) return `Use at most ${MAX_POST_CHARS} characters (now ${n}).`;
  return undefined;
}

export function validatePicture(file: { type: string; size: number }): string | undefined {
  if (!PICTURE_TYPES.includes(file.type)) return 'Pick a PNG, JPEG, GIF or WebP picture.';
  if (file.size > MAX_PICTURE_BYTES) return 'Pictures can be up to 10 MB.';
  if (file.size === 0) return 'That file is empty.';
  return undefined;
}
