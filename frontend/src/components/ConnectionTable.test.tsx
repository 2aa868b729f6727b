import { useState } from 'react';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ColumnsType } from 'antd/es/table';
import { Button } from 'antd';
import { ConnectionTable, useConnection } from './ConnectionTable';
import { Providers } from '../router';
import { mockGraphQL } from '../test/utils';
import { UsersDocument, type UserFieldsFragment } from '../graphql/generated';

const user = (n: number) => ({ id: `u${n}`, username: `user${n}`, displayName: `用户${n}`, active: true, createdAt: '2026-01-01T00:00:00Z', grants: [] });

/** A fake server with 5 users, pages of 2, cursors "c<last index>". */
function serve(fail: { count: number } = { count: 0 }) {
  return mockGraphQL(({ variables }) => {
    if (fail.count > 0) {
      fail.count--;
      return { json: { errors: [{ message: 'forbidden', extensions: { code: 'FORBIDDEN' } }] } };
    }
    const prefix = (variables.usernamePrefix as string | null) ?? '';
    const all = [1, 2, 3, 4, 5].map(user).filter((u) => u.username.startsWith(prefix) || prefix === '');
    const start = variables.after ? Number(String(variables.after).slice(1)) + 1 : 0;
    const nodes = all.slice(start, start + Number(variables.first));
    const last = start + nodes.length - 1;
    return { json: { data: { users: { totalCount: all.length, nodes, pageInfo: { hasNextPage: last < all.length - 1, endCursor: nodes.length ? `c${last}` : null } } } } };
  });
}

const columns: ColumnsType<UserFieldsFragment> = [
  { title: '用户名', dataIndex: 'username', render: (v: string) => <span>名：{v}</span> },
  { title: '姓名', dataIndex: 'displayName' },
];

function UsersList({ emptyText = '暂无用户' }: { emptyText?: string }) {
  const [prefix, setPrefix] = useState<string | null>(null);
  const source = useConnection(UsersDocument, { usernamePrefix: prefix }, (d) => d.users, { pageSize: 2 });
  return (
    <Providers>
      <ConnectionTable
        source={source}
        columns={columns}
        emptyText={emptyText}
        filters={
          <>
            <Button onClick={() => setPrefix('user5')}>只看5</Button>
            <Button onClick={() => setPrefix('nobody')}>没有人</Button>
          </>
        }
      />
    </Providers>
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('ConnectionTable', () => {
  it('walks the connection with first/after, shows the total, and goes back', async () => {
    const fetch = serve();
    render(<UsersList />);
    const table = await screen.findByRole('table');
    // the page's own render gets the raw value, as in a plain antd table
    expect(await within(table).findByText('名：user1')).toBeInTheDocument();
    expect(screen.getByText(/共 5 条 · 第 1 \/ 3 页/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /上一页/ })).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: /下一页/ }));
    expect(await screen.findByText('名：user3')).toBeInTheDocument();
    expect(screen.queryByText('名：user1')).not.toBeInTheDocument();
    expect(screen.getByText(/第 2 \/ 3 页/)).toBeInTheDocument();
    expect(JSON.parse(String(fetch.mock.calls.at(-1)?.[1]?.body)).variables).toMatchObject({ first: 2, after: 'c1' });

    await userEvent.click(screen.getByRole('button', { name: /下一页/ }));
    expect(await screen.findByText('名：user5')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /下一页/ })).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: /上一页/ }));
    expect(await screen.findByText('名：user3')).toBeInTheDocument();
    expect(JSON.parse(String(fetch.mock.calls.at(-1)?.[1]?.body)).variables).toMatchObject({ after: 'c1' });
  });

  it('starts again at the first page when a filter changes, without a request carrying the old cursor', async () => {
    const fetch = serve();
    render(<UsersList />);
    await screen.findByText('名：user1');
    await userEvent.click(screen.getByRole('button', { name: /下一页/ }));
    await screen.findByText('名：user3');
    const before = fetch.mock.calls.length;
    await userEvent.click(screen.getByRole('button', { name: '只看5' }));
    expect(await screen.findByText('名：user5')).toBeInTheDocument();
    const sent = fetch.mock.calls.slice(before).map((c) => JSON.parse(String(c[1]?.body)).variables);
    expect(sent).toEqual([{ usernamePrefix: 'user5', first: 2, after: null }]);
    expect(screen.getByText(/共 1 条 · 第 1 \/ 1 页/)).toBeInTheDocument();
  });

  it('shows the empty text when nothing matches', async () => {
    serve();
    render(<UsersList emptyText="没有以该前缀开头的用户" />);
    await screen.findByText('名：user1');
    await userEvent.click(screen.getByRole('button', { name: '没有人' }));
    expect(await screen.findByText('没有以该前缀开头的用户')).toBeInTheDocument();
    expect(screen.getByText(/共 0 条/)).toBeInTheDocument();
  });

  it('shows a Chinese error with 重试, which loads the page again', async () => {
    serve({ count: 1 });
    render(<UsersList />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('加载失败');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    await userEvent.click(within(alert).getByRole('button', { name: /重试/ }));
    await waitFor(() => expect(screen.getByText('名：user1')).toBeInTheDocument());
  });
});
