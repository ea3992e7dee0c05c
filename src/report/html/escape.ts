// Escaping for everything from the cluster that lands in a page: names and messages are written by
// tenants, so each is hostile until escaped for the place it goes (text, attribute, URL, script).

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text or a quoted attribute value: `<script>` shows as text, a quote cannot end the attribute. */
export function esc(value: string | number): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ENTITIES[c] ?? c);
}

/** A path segment of a link (then escaped for the attribute it sits in). */
export function pathSegment(value: string): string {
  return encodeURIComponent(value);
}

/**
 * JSON inside <script type="application/json">: `<` is written \u003c so no value can close the
 * element (`</script>`) or open a comment, and U+2028/2029 as escapes for old parsers.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
