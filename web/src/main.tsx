import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, whenUnauthorized } from './api';
import { AgentPage } from './pages/agent';
import { AgentsPage } from './pages/agents';
import { PasswordPrompt } from './password-prompt';
import { forgetPassword, restorePassword } from './password';
import { useRoute } from './router';
import './styles.css';

type Theme = 'light' | 'dark' | 'system';

/** The colour scheme a person picked (not a secret, so localStorage); `system` follows the OS as it changes. */
function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('cairn.theme') as Theme | null) ?? 'system');
  useEffect(() => {
    localStorage.setItem('cairn.theme', theme);
    const system = matchMedia('(prefers-color-scheme: dark)');
    const apply = () => {
      document.documentElement.dataset.theme = theme === 'system' ? (system.matches ? 'dark' : 'light') : theme;
    };
    apply();
    system.addEventListener('change', apply);
    return () => system.removeEventListener('change', apply);
  }, [theme]);
  return [theme, setTheme];
}

type Access = 'checking' | 'open' | 'locked';

function App() {
  const route = useRoute();
  const [theme, setTheme] = useTheme();
  const [access, setAccess] = useState<Access>('checking');

  useEffect(() => {
    whenUnauthorized(() => setAccess('locked'));
    void (async () => {
      await restorePassword();
      try {
        await get('/v1/agents/', { limit: 1 });
        setAccess('open');
      } catch (error) {
        setAccess(error instanceof ApiError && error.status === 401 ? 'locked' : 'open');
      }
    })();
  }, []);

  const page =
    route[0] === 'agents' && route[1] ? (
      <AgentPage agentId={route[1]} tab={route[2] ?? 'memory'} item={route[3]} />
    ) : (
      <AgentsPage />
    );

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          <span aria-hidden="true">◭</span> Cairn <span class="muted">memory inspector</span>
        </a>
        <div class="top-actions">
          <label>
            <span class="visually-hidden">Colour scheme</span>
            <select value={theme} onChange={(e) => setTheme(e.currentTarget.value as Theme)}>
              <option value="system">System theme</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
          {access === 'open' && (
            <button
              type="button"
              class="quiet"
              onClick={() => {
                forgetPassword();
                location.reload();
              }}
            >
              Lock
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {access === 'checking' && <p class="muted">Connecting…</p>}
        {access === 'locked' && <PasswordPrompt onUnlocked={() => setAccess('open')} />}
        {access === 'open' && page}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
