/** A server's field detail as a sentence: "must be a valid email address" → "Must be a valid email address." */
export function asSentence(detail: string): string {
  const t = detail.trim();
  if (t === '') return t;
  const capital = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
