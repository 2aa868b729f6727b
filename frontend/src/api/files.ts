/**
 * File transfer outside GraphQL (core/members/http.py, core/funds/http.py): roster upload, templates,
 * error reports, member exports and ledger report files. Same bearer token and the same 401 handling as the GraphQL client.
 */
import { currentToken, endSession } from '../auth/session';
import { ApiError, NetworkError } from './client';

function authHeaders(): Record<string, string> {
  const token = currentToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function failure(response: Response): Promise<ApiError> {
  let code = 'INTERNAL';
  let message = `HTTP ${response.status}`;
  try {
    const body = await response.json();
    code = body?.error?.code ?? body?.errors?.[0]?.extensions?.code ?? code;
    message = body?.error?.message ?? body?.errors?.[0]?.message ?? message;
  } catch {
    /* not JSON */
  }
  if (response.status === 401) endSession(code === 'TOKEN_EXPIRED' ? 'TOKEN_EXPIRED' : 'UNAUTHENTICATED');
  return new ApiError(code, message, response.status);
}

function filenameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : fallback;
}

/** GET an authenticated file and hand it to the browser as a download. Returns the file name. */
export async function downloadFile(url: string, fallbackName: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { headers: authHeaders() });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (!response.ok) throw await failure(response);
  const name = filenameFrom(response.headers.get('content-disposition'), fallbackName);
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return name;
}

export interface UploadedImport {
  id: string;
  status: string;
  filename: string;
  fileError: { code: string; message: string; row?: number | null; column?: string } | null;
}

/**
 * POST a roster: the body is the file itself. 201 → the import (its preview runs as a job);
 * 422 → the import with `fileError` (the file as a whole cannot be a roster).
 */
export async function uploadRoster(file: File): Promise<UploadedImport> {
  let response: Response;
  try {
    response = await fetch(`/imports?filename=${encodeURIComponent(file.name)}`, { method: 'POST', headers: authHeaders(), body: file });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (response.status === 201 || response.status === 422) {
    const body = await response.json();
    return body.import as UploadedImport;
  }
  throw await failure(response);
}
