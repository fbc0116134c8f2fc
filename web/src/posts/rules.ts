// Client-side checks that mirror the post and upload functions' rules, so
// most mistakes are caught before a round trip. The server stays the judge.
import { charLength } from '../text/charLength';

export const MAX_POST_CHARS = 5000;
export const MAX_PICTURE_BYTES = 10 * 1024 * 1024;
export const PICTURE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

export function validatePostText(text: string): string | undefined {
  const n = charLength(text.trim());
  if (n === 0) return 'Write something to post.';
  if (n > MAX_POST_CHARS) return `Use at most ${MAX_POST_CHARS} characters (now ${n}).`;
  return undefined;
}

export function validatePicture(file: { type: string; size: number }): string | undefined {
  if (!PICTURE_TYPES.includes(file.type)) return 'Pick a PNG, JPEG, GIF or WebP picture.';
  if (file.size > MAX_PICTURE_BYTES) return 'Pictures can be up to 10 MB.';
  if (file.size === 0) return 'That file is empty.';
  return undefined;
}
