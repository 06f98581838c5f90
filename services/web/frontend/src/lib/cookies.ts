/** A cookie the page's script may read (the CSRF cookie; the session cookies are httpOnly). */
export function readCookie(name: string, source: string = typeof document === "undefined" ? "" : document.cookie): string | undefined {
  for (const part of source.split(";")) {
    const [k, ...rest] = part.trim().split("=");
    if (k === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}
