/** A JSON call to Cairn's REST API at `base` (`http://host:port`); a non-2xx answer throws with its body. */
export async function call(base, method, path, body) {
  const response = await fetch(`${base}/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}
