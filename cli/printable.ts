/** Text from a repository (a subject, a package name) as the terminal gets it: no control characters. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
