import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { AsyncView } from './states';
import { NetworkError } from '../api/client';

describe('AsyncView', () => {
  it('shows loading, then empty, then content', () => {
    const { rerender } = render(
      <AsyncView loading error={null} data={undefined as string[] | undefined} isEmpty={(d) => d.length === 0} emptyText="暂无组织">
        {(d) => <p>{d.join(',')}</p>}
      </AsyncView>,
    );
    expect(screen.getByRole('status')).toHaveTextContent('加载中');
    rerender(
      <AsyncView loading={false} error={null} data={[] as string[]} isEmpty={(d) => d.length === 0} emptyText="暂无组织">
        {(d) => <p>{d.join(',')}</p>}
      </AsyncView>,
    );
    expect(screen.getByText('暂无组织')).toBeInTheDocument();
    rerender(
      <AsyncView loading={false} error={null} data={['甲', '乙']} isEmpty={(d) => d.length === 0}>
        {(d) => <p>{d.join(',')}</p>}
      </AsyncView>,
    );
    expect(screen.getByText('甲,乙')).toBeInTheDocument();
  });

  it('shows errors in Chinese with a retry button', async () => {
    const retry = vi.fn();
    render(
      <AsyncView loading={false} error={new NetworkError('x')} data={undefined} onRetry={retry}>
        {() => null}
      </AsyncView>,
    );
    expect(screen.getByRole('alert')).toHaveTextContent('无法连接服务器');
    await userEvent.click(screen.getByRole('button', { name: /重\s*试/ }));
    expect(retry).toHaveBeenCalled();
  });
});
