/**
 * Simplified Chinese and English. Each page owns its messages (`{ en: {...}, zh: {...} }`, the same keys
 * in both, checked by the compiler) and reads them with `useT(messages)`. The language follows the
 * browser (zh* → zh) until the user picks one, which is kept in localStorage.
 */
import { useEffect, useState } from 'preact/hooks';

export type Language = 'en' | 'zh';
export const LANGUAGES: readonly Language[] = ['en', 'zh'];

export type Messages<K extends string> = Record<Language, Record<K, string>>;
/** `t('left', { time: '3h' })`: the message in the current language, `{name}` placeholders filled. */
export type Translate<K extends string> = (key: K, vars?: Record<string, string | number>) => string;

const STORAGE_KEY = 'casebook.language';
/** The `lang` attribute for each language. */
export const LANGUAGE_TAGS: Record<Language, string> = { en: 'en', zh: 'zh-CN' };

function initialLanguage(): Language {
  const chosen = localStorage.getItem(STORAGE_KEY);
  if (chosen === 'en' || chosen === 'zh') return chosen;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let current: Language = initialLanguage();
const listeners = new Set<() => void>();

export const currentLanguage = (): Language => current;

export function setLanguage(language: Language): void {
  current = language;
  localStorage.setItem(STORAGE_KEY, language);
  document.documentElement.lang = LANGUAGE_TAGS[language];
  for (const listener of listeners) listener();
}

/** The current language; the component renders again when it changes. */
export function useLanguage(): Language {
  const [language, setState] = useState(current);
  useEffect(() => {
    const listener = () => setState(current);
    listeners.add(listener);
    listener();
    return () => void listeners.delete(listener);
  }, []);
  return language;
}

export const fill = (template: string, vars: Record<string, string | number> = {}): string =>
  template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));

export function translator<K extends string>(messages: Messages<K>, language: Language): Translate<K> {
  return (key, vars) => fill(messages[language][key], vars);
}

export function useT<K extends string>(messages: Messages<K>): Translate<K> {
  return translator(messages, useLanguage());
}
