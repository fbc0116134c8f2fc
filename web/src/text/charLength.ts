/** Length in characters as a person counts them (code points, not UTF-16 units), as the API counts them. */
export function charLength(s: string): number {
  return [...s].length;
}
