import { useEffect, useState } from 'react';

/** The SPA's pages, kept in the URL hash so the backend serves one `index.html` for all of them. */
export type Route =
  | { name: 'dashboard' }
  | { name: 'history'; params: URLSearchParams }
  | { name: 'call'; id: string }
  | { name: 'admin' }
  | { name: 'board' };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'history' && parts[1]) return { name: 'call', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'history') return { name: 'history', params: new URLSearchParams(query) };
  if (parts[0] === 'admin') return { name: 'admin' };
  if (parts[0] === 'board') return { name: 'board' };
  return { name: 'dashboard' };
}

export const hrefs = {
  dashboard: '#/',
  history: (params?: URLSearchParams) => {
    const q = params?.toString();
    return q ? `#/history?${q}` : '#/history';
  },
  call: (id: string) => `#/history/${encodeURIComponent(id)}`,
  admin: '#/admin',
  board: '#/board',
};

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function navigate(href: string): void {
  if (window.location.hash !== href) window.location.hash = href;
}
