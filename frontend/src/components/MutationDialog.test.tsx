import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Form, Input } from 'antd';
import { MutationDialog } from './MutationDialog';
import { Providers } from '../router';
import { mockGraphQL } from '../test/utils';
import { gql } from '../api/client';
import { OrgUnitRenameDocument, type OrgUnitRenameMutation } from '../graphql/generated';

type Payload = OrgUnitRenameMutation['orgUnitRename'];
const UNIT = { id: 'T3JnVW5pdDo1', name: '新名称', code: 'sh-x', level: 'GRASSROOTS', parentId: null, path: '1.5', active: true, areaCode: null, childCount: 0 };

function renderDialog(onDone = vi.fn(), onClose = vi.fn()) {
  render(
    <Providers>
      <MutationDialog<{ name: string; note?: string }, Payload>
        title="重命名"
        okText="保存"
        name="t-rename"
        onClose={onClose}
        initialValues={{ name: '旧名称' }}
        mutate={async (v) => (await gql(OrgUnitRenameDocument, { id: UNIT.id, name: v.name.trim() })).orgUnitRename}
        isDone={(r) => !!r.orgUnit}
        onDone={onDone}
        errorOptions={{ fieldMap: { newName: 'name' }, messages: { 'newName.DUPLICATE': '同级已有同名组织' } }}
      >
        <Form.Item label="新名称" name="name" rules={[{ required: true, whitespace: true, message: '请输入新名称' }]}>
          <Input />
        </Form.Item>
      </MutationDialog>
    </Providers>,
  );
  return { onDone, onClose };
}

const err = (field: string | null, code: string, messageZh: string | null = null) => ({ field, code, message: 'x', messageZh });

afterEach(() => vi.unstubAllGlobals());

describe('MutationDialog', () => {
  it('checks required fields before any request', async () => {
    const fetch = mockGraphQL(() => ({ json: {} }));
    renderDialog();
    await userEvent.clear(screen.getByLabelText('新名称'));
    await userEvent.click(screen.getByRole('button', { name: /保\s*存/ }));
    expect(await screen.findByText('请输入新名称')).toBeInTheDocument();
    expect(fetch).not.toHaveBeenCalled();
  });

  it('puts payload errors beside their fields (mapped, per-form text) and the rest at the top; success calls onDone once', async () => {
    let round = 0;
    const fetch = mockGraphQL(() => {
      round++;
      if (round === 1) return { json: { data: { orgUnitRename: { orgUnit: null, errors: [err('newName', 'DUPLICATE'), err(null, 'FORBIDDEN'), err('nowhere', 'INVALID_STATE', '该组织已停用，不能重命名')] } } } };
      return { json: { data: { orgUnitRename: { orgUnit: UNIT, errors: [] } } } };
    });
    const { onDone } = renderDialog();
    await userEvent.clear(screen.getByLabelText('新名称'));
    await userEvent.type(screen.getByLabelText('新名称'), '新名称');
    await userEvent.click(screen.getByRole('button', { name: /保\s*存/ }));
    // beside the (mapped) field, in the form's own words for the server's field and code
    expect(await screen.findByText('同级已有同名组织')).toBeInTheDocument();
    // field-less and unknown-field errors at the top, in Chinese (messageZh wins over the dictionary)
    const alert = screen.getByRole('alert');
    expect(within(alert).getByText('您没有执行此操作的权限')).toBeInTheDocument();
    expect(within(alert).getByText('该组织已停用，不能重命名')).toBeInTheDocument();
    expect(onDone).not.toHaveBeenCalled();
    expect(JSON.parse(String(fetch.mock.calls[0][1]?.body)).variables).toEqual({ id: UNIT.id, name: '新名称' });

    await userEvent.click(screen.getByRole('button', { name: /保\s*存/ }));
    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(1));
    expect(onDone.mock.calls[0][0].orgUnit.name).toBe('新名称');
    expect(onDone.mock.calls[0][1]).toEqual({ name: '新名称' });
  });

  it('shows a failed request in Chinese and keeps the dialog open with what was typed', async () => {
    mockGraphQL(() => ({ json: { errors: [{ message: 'nope', extensions: { code: 'FORBIDDEN' } }] } }));
    const { onDone, onClose } = renderDialog();
    await userEvent.click(screen.getByRole('button', { name: /保\s*存/ }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/权限/);
    expect(screen.getByLabelText('新名称')).toHaveValue('旧名称');
    expect(onDone).not.toHaveBeenCalled();
    expect(onClose).not.toHaveBeenCalled();
  });

  it('does not take a payload without its object for success', async () => {
    mockGraphQL(() => ({ json: { data: { orgUnitRename: { orgUnit: null, errors: [] } } } }));
    const { onDone } = renderDialog();
    await userEvent.click(screen.getByRole('button', { name: /保\s*存/ }));
    expect(await screen.findByRole('alert')).toHaveTextContent('服务器内部错误');
    expect(onDone).not.toHaveBeenCalled();
  });
});
