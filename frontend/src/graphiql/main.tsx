/**
 * GraphiQL for the API, bundled from the pinned `graphiql` package into dist/ with the UI, so it
 * works offline and under the strict Content-Security-Policy (no CDN, no inline script). The
 * server serves it at GET /graphql outside production (core/web.py).
 *
 * A UI login in the same browser is reused: its token is sent unless the headers tab sets its own
 * Authorization.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { getState, isExpired } from '../auth/session';

type GraphiQLProps = Parameters<typeof GraphiQL>[0];
type Fetcher = GraphiQLProps['fetcher'];

const fetcher: Fetcher = async (params, opts) => {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(opts?.headers ?? {}) };
  const session = getState().session;
  const hasAuth = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
  if (!hasAuth && session && !isExpired(session)) headers.authorization = `Bearer ${session.token}`;
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(params) });
  return response.json();
};

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} />
  </StrictMode>,
);
