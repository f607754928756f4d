/** A value from the request, shortened and quoted as JSON (no control characters reach a message raw). */
export function quote(value: unknown, max = 40): string {
  return JSON.stringify(String(value).slice(0, max));
}
