/** The console's shell: sign-in, the pages the key's role may see, the language switch, hash routing. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './app.css';
import { ApiProblem, UNAUTHORIZED_EVENT } from './api.js';
import { LANGUAGE_TAGS, LANGUAGES, setLanguage, useLanguage, useT, type Messages } from './i18n.js';
import { PAGES, type Page } from './pages.js';
import { signIn, signOut, storedKey, type Session } from './session.js';

const MESSAGES: Messages<
  | 'brand'
  | 'skip'
  | 'mainNav'
  | 'language'
  | 'signedInAs'
  | 'signOut'
  | 'signInTitle'
  | 'keyLabel'
  | 'keyHint'
  | 'keyKept'
  | 'keyCommand'
  | 'signIn'
  | 'signingIn'
  | 'badKey'
  | 'signInFailed'
  | 'restoring'
  | 'noPages'
  | 'notAllowed'
  | 'noSuchPage'
  | 'role'
> = {
  en: {
    brand: 'Casebook',
    skip: 'Skip to the content',
    mainNav: 'Pages',
    language: 'Language',
    signedInAs: '{name} ({role})',
    signOut: 'Sign out',
    signInTitle: 'Sign in to Casebook',
    keyLabel: 'API key',
    keyHint: 'An administrator creates your key with:',
    keyCommand: 'casebook keys create --role <role> --name <your name>',
    keyKept: 'The key is kept in this browser tab only.',
    signIn: 'Sign in',
    signingIn: 'Signing in…',
    badKey: 'This key is not valid: it is unknown, revoked or mistyped.',
    signInFailed: 'Signing in failed: {detail}',
    restoring: 'Signing in…',
    noPages: 'The {role} role has no page in the console. Its work goes through the API (for the warehouse: receipts to POST /v1/webhooks/warehouse).',
    notAllowed: 'The {role} role may not open this page.',
    noSuchPage: 'There is no page {path}.',
    role: 'role',
  },
  zh: {
    brand: 'Casebook',
    skip: '跳到正文',
    mainNav: '页面',
    language: '语言',
    signedInAs: '{name}（{role}）',
    signOut: '退出',
    signInTitle: '登录 Casebook',
    keyLabel: 'API 密钥',
    keyHint: '管理员用以下命令为你创建密钥：',
    keyCommand: 'casebook keys create --role <角色> --name <姓名>',
    keyKept: '密钥只保存在当前浏览器标签页中。',
    signIn: '登录',
    signingIn: '正在登录…',
    badKey: '密钥无效：不存在、已吊销或输入有误。',
    signInFailed: '登录失败：{detail}',
    restoring: '正在登录…',
    noPages: '{role} 角色在控制台中没有可用页面，其工作通过 API 完成（仓库：收货回执发送到 POST /v1/webhooks/warehouse）。',
    notAllowed: '{role} 角色无权打开此页面。',
    noSuchPage: '没有 {path} 这个页面。',
    role: '角色',
  },
};

/** The hash route as parts: `#/cases/c-1?x=1` → ['cases', 'c-1']. */
const routeOf = (hash: string): string[] => hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);

function useRoute(): string[] {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const changed = () => setRoute(routeOf(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

const pagesFor = (session: Session): Page[] => PAGES.filter((page) => page.roles.includes(session.role));

function App() {
  const language = useLanguage();
  const t = useT(MESSAGES);
  const route = useRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => storedKey() !== null);

  useEffect(() => {
    document.documentElement.lang = LANGUAGE_TAGS[language];
  }, [language]);

  useEffect(() => {
    const key = storedKey();
    if (key) {
      signIn(key)
        .then(setSession, () => signOut())
        .finally(() => setRestoring(false));
    }
    const revoked = () => {
      signOut();
      setSession(null);
    };
    window.addEventListener(UNAUTHORIZED_EVENT, revoked);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, revoked);
  }, []);

  const pages = session ? pagesFor(session) : [];
  const current = pages.find((page) => page.path === route[0]);
  const known = PAGES.find((page) => page.path === route[0]);

  useEffect(() => {
    // An empty route opens the role's first page.
    // The live hash, not `route`: a navigation made since this render was scheduled must not be overwritten.
    if (session && routeOf(location.hash).length === 0 && pages[0]) location.replace(`#/${pages[0].path}`);
    document.title = current ? `${current.title[language]} · Casebook` : 'Casebook';
  }, [session, route, current, language]);

  return (
    <>
      {/* biome-ignore lint/a11y/useValidAnchor: a skip link is a link to #main; the handler only moves the focus there too */}
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        {t('skip')}
      </a>
      <header class="top">
        <span class="brand">{t('brand')}</span>
        {session && pages.length > 0 && (
          <nav aria-label={t('mainNav')}>
            <ul>
              {pages.map((page) => (
                <li key={page.path}>
                  <a href={`#/${page.path}`} aria-current={page.path === route[0] ? 'page' : undefined}>
                    {page.title[language]}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div class="tools">
          <label>
            <span class="visually-hidden">{t('language')}</span>
            <select value={language} onChange={(event) => setLanguage(event.currentTarget.value as typeof language)} aria-label={t('language')}>
              {LANGUAGES.map((l) => (
                <option key={l} value={l} lang={LANGUAGE_TAGS[l]}>
                  {l === 'zh' ? '中文' : 'English'}
                </option>
              ))}
            </select>
          </label>
          {session && <span class="who">{t('signedInAs', { name: session.name, role: session.role })}</span>}
          {session && (
            <button
              type="button"
              onClick={() => {
                signOut();
                setSession(null);
                location.hash = '';
              }}
            >
              {t('signOut')}
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {restoring ? (
          <p role="status">{t('restoring')}</p>
        ) : !session ? (
          <SignIn onSignedIn={setSession} />
        ) : pages.length === 0 ? (
          <p class="notice" role="status">
            {t('noPages', { role: session.role })}
          </p>
        ) : current ? (
          <current.render session={session} route={route} />
        ) : known ? (
          <p class="notice" role="alert">
            {t('notAllowed', { role: session.role })}
          </p>
        ) : route.length > 0 ? (
          <p class="notice" role="alert">
            {t('noSuchPage', { path: `#/${route.join('/')}` })}
          </p>
        ) : null}
      </main>
    </>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const t = useT(MESSAGES);
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(key.trim()));
    } catch (failure) {
      setError(
        failure instanceof ApiProblem && failure.status === 401
          ? t('badKey')
          : t('signInFailed', { detail: failure instanceof Error ? failure.message : String(failure) }),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{t('signInTitle')}</h1>
      <form onSubmit={submit}>
        <label for="api-key">{t('keyLabel')}</label>
        <input
          id="api-key"
          name="key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          aria-describedby="api-key-hint"
          aria-invalid={error ? 'true' : undefined}
        />
        <div id="api-key-hint" class="hint">
          <p>{t('keyHint')}</p>
          <p>
            <code>{t('keyCommand')}</code>
          </p>
          <p>{t('keyKept')}</p>
        </div>
        <button type="submit" disabled={busy}>
          {busy ? t('signingIn') : t('signIn')}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}

render(<App />, document.getElementById('app')!);
