// What tells two people of the same name apart in a list: friends in
// common and when they joined. The API never sends any part of an email.
import type { PersonCard } from '../api/types';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "Joined March 2026" from "2026-03"; '' when the month is not one. */
export function joinedText(joined: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(joined);
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  return m && month ? `Joined ${month} ${m[1]}` : '';
}

export function mutualText(n: number): string {
  if (n <= 0) return 'No friends in common';
  return n === 1 ? '1 friend in common' : `${n} friends in common`;
}

/** "2 friends in common · Joined March 2026" */
export function cardDetails(c: Pick<PersonCard, 'mutualFriends' | 'joined'>): string {
  return [mutualText(c.mutualFriends), joinedText(c.joined)].filter(Boolean).join(' · ');
}
