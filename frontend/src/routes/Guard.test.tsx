import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { Guard } from './Guard';
import { WithAuth, fakeAuth } from '../test/utils';

function renderGuard(permissions: string[]) {
  render(
    <WithAuth value={fakeAuth(permissions)}>
      <MemoryRouter>
        <Guard permission="audit.read">
          <p>审计日志内容</p>
        </Guard>
      </MemoryRouter>
    </WithAuth>,
  );
}

describe('Guard', () => {
  it('shows 无权访问 instead of a screen the user may not open (typed URL)', () => {
    renderGuard(['org.read']);
    expect(screen.getByText('无权访问')).toBeInTheDocument();
    expect(screen.queryByText('审计日志内容')).toBeNull();
  });

  it('shows the screen when the permission is held', () => {
    renderGuard(['audit.read']);
    expect(screen.getByText('审计日志内容')).toBeInTheDocument();
  });
});
