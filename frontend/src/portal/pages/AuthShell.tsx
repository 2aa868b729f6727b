import type { ReactNode } from 'react';

/** The frame of the login and registration pages (no session yet, so no tabs). */
export function AuthShell({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="hj-portal">
      <header className="hj-portal-header">
        <span>职工之家</span>
      </header>
      <main className="hj-portal-main">
        <h1 style={{ fontSize: 20, margin: '8px 0 16px' }}>{title}</h1>
        {children}
      </main>
    </div>
  );
}
