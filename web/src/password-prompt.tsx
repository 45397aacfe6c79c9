import { Alert } from './alert';
import { useState } from 'preact/hooks';
import { ApiError, get } from './api';
import { errorText } from './format';
import { forgetPassword, rememberPassword } from './password';

/** Asks for the server password (`LETTA_SERVER_PASSWORD`) and checks it before keeping it for the tab. */
export function PasswordPrompt({ onUnlocked }: { onUnlocked: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    await rememberPassword(password);
    try {
      await get('/v1/agents/', { limit: 1 });
      onUnlocked();
    } catch (failure) {
      forgetPassword();
      setError(failure instanceof ApiError && failure.status === 401 ? 'Wrong password.' : errorText(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card narrow" onSubmit={(e) => void submit(e)}>
      <h1>Password</h1>
      <p class="muted">This server has a password. It is kept for this tab only, encrypted.</p>
      <label for="password">Server password</label>
      <input
        id="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onInput={(e) => setPassword(e.currentTarget.value)}
        autoFocus
        required
      />
      <Alert message={error} />
      <button type="submit" disabled={busy}>
        Unlock
      </button>
    </form>
  );
}
