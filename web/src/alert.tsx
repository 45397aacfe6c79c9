/** An error as the server worded it, announced to screen readers; nothing when there is none. */
export function Alert({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}
