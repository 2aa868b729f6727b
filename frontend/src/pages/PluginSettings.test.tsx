import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import PluginSettingsPage, { saveErrorText, settingsProblem } from './PluginSettings';
import { Providers } from '../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../test/utils';

const SHANGHAI = {
  plugin: 'shanghai',
  version: 2,
  settings: { dibao: { '310000': { '2024': 151000 } }, phone_required_tags: ['new_employment'] },
  source: 'API',
  changedBy: 'admin',
  changedAt: '2026-12-01T02:00:00Z',
  description: "Shanghai's settings; all keys are optional.",
  fields: [
    { name: 'dibao', type: 'object<object<integer>>', required: false, default: { '310000': { '2024': 151000 } }, description: null },
    { name: 'phone_required_tags', type: 'array<string>', required: false, default: ['new_employment'], description: null },
  ],
};
const BUILTIN = { ...SHANGHAI, plugin: 'builtin', version: 1, source: 'MANIFEST', changedBy: 'tenants-sync', settings: { levy_grassroots_bp: 6000 }, fields: [] };

const HISTORY = {
  data: {
    pluginSettingsHistory: {
      totalCount: 2,
      nodes: [
        { version: 2, settings: SHANGHAI.settings, source: 'API', changedBy: 'admin', changedKeys: ['phone_required_tags'], createdAt: '2026-12-01T02:00:00Z' },
        { version: 1, settings: { phone_required_tags: [] }, source: 'MANIFEST', changedBy: 'tenants-sync', changedKeys: [], createdAt: '2026-11-30T02:00:00Z' },
      ],
    },
  },
};

type Handler = Parameters<typeof mockGraphQL>[0];

function backend(onUpdate?: (variables: Record<string, unknown>) => unknown): Handler {
  return ({ query, variables }) => {
    if (query.includes('pluginSettingsUpdate')) return { json: onUpdate?.(variables) };
    if (query.includes('pluginSettingsHistory'))
      return variables.plugin === 'shanghai' ? { json: HISTORY } : { json: { data: { pluginSettingsHistory: { totalCount: 0, nodes: [] } } } };
    return { json: { data: { pluginSettings: [BUILTIN, SHANGHAI] } } };
  };
}

async function openShanghai() {
  const router = createMemoryRouter([{ path: '/settings/plugins', element: <PluginSettingsPage /> }], { initialEntries: ['/settings/plugins'] });
  render(
    <Providers>
      <WithAuth value={fakeAuth(['plugin.configure'])}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
  // ByText/ByLabelText rather than ByRole: role queries walk antd's large DOM with jsdom's slow styles.
  const user = userEvent.setup({ pointerEventsCheck: 0 });
  await user.click(await screen.findByText('上海市规则'));
  const editor = (await screen.findByLabelText('上海市规则的设置（JSON）')) as HTMLTextAreaElement;
  return { user, editor };
}

afterEach(() => vi.unstubAllGlobals());

describe('settingsProblem / saveErrorText', () => {
  it('turns the schema check into Chinese, naming the dotted key', () => {
    expect(settingsProblem("setting 'dibao.310000.2024': expected int, got str")).toBe('应为整数，实际为文本');
    expect(saveErrorText({ field: 'settings.dibao.310000.2024', code: 'PLUGIN_CONFIG', message: "setting 'dibao.310000.2024': expected int, got str" })).toBe(
      '设置项“dibao.310000.2024”：应为整数，实际为文本',
    );
    expect(saveErrorText({ field: 'settings.nope', code: 'PLUGIN_CONFIG', message: "setting 'nope': unknown setting (known: dibao)" })).toContain('没有这个设置项');
    expect(saveErrorText({ field: 'expectedVersion', code: 'CONFLICT', message: 'changed' }, 2)).toContain('已被他人修改');
  });
});

// The first render of antd's tabs and tables in jsdom takes seconds on a busy machine.
describe('插件设置', { timeout: 30_000 }, () => {
  it('shows the current version, the schema and the version history', async () => {
    mockGraphQL(backend());
    const { editor } = await openShanghai();
    expect(JSON.parse(editor.value)).toEqual(SHANGHAI.settings);
    expect(screen.getByText('第 2 版', { selector: '.ant-tag' })).toBeInTheDocument();
    expect(screen.getAllByText('array<string>').length).toBeGreaterThan(0);
    const v1 = (await screen.findByLabelText('恢复第 1 版')).closest('tr') as HTMLElement;
    expect(within(v1).getByText('配置文件同步')).toBeInTheDocument();
    // the current version cannot be "restored"
    expect(screen.queryByLabelText('恢复第 2 版')).toBeNull();
  });

  it('refuses malformed JSON in Chinese without calling the server', async () => {
    const fetch = mockGraphQL(backend(() => { throw new Error('must not be called'); }));
    const { user, editor } = await openShanghai();
    fireEvent.change(editor, { target: { value: '{"phone_required_tags": [' } });
    await user.click(screen.getByLabelText('保存上海市规则的设置'));
    expect(await screen.findByText(/JSON 格式有误/)).toBeInTheDocument();
    expect(fetch.mock.calls.some(([, init]) => String(init?.body).includes('pluginSettingsUpdate'))).toBe(false);
  });

  it('shows the server’s validation error for the dotted key in Chinese and keeps the text', async () => {
    const sent: Record<string, unknown>[] = [];
    mockGraphQL(
      backend((variables) => {
        sent.push(variables);
        return {
          data: {
            pluginSettingsUpdate: {
              pluginSettings: null,
              errors: [{ field: 'settings.dibao.310000.2024', code: 'PLUGIN_CONFIG', message: "setting 'dibao.310000.2024': expected int, got str" }],
            },
          },
        };
      }),
    );
    const { user, editor } = await openShanghai();
    const bad = '{"dibao": {"310000": {"2024": "很多"}}}';
    fireEvent.change(editor, { target: { value: bad } });
    await user.click(screen.getByLabelText('保存上海市规则的设置'));
    expect(await screen.findByText('设置项“dibao.310000.2024”：应为整数，实际为文本')).toBeInTheDocument();
    expect(sent).toEqual([{ plugin: 'shanghai', settings: { dibao: { '310000': { '2024': '很多' } } }, expectedVersion: 2 }]);
    expect(editor.value).toBe(bad);
  });

  it('saves with the version it started from and reloads', async () => {
    const sent: Record<string, unknown>[] = [];
    const fetch = mockGraphQL(
      backend((variables) => {
        sent.push(variables);
        return { data: { pluginSettingsUpdate: { pluginSettings: { ...SHANGHAI, version: 3, settings: variables.settings }, errors: [] } } };
      }),
    );
    const { user, editor } = await openShanghai();
    fireEvent.change(editor, { target: { value: '{"phone_required_tags": []}' } });
    const listsBefore = fetch.mock.calls.filter(([, init]) => String(init?.body).includes('PluginSettingsList')).length;
    await user.click(screen.getByLabelText('保存上海市规则的设置'));
    await waitFor(() => expect(sent).toEqual([{ plugin: 'shanghai', settings: { phone_required_tags: [] }, expectedVersion: 2 }]));
    await waitFor(() =>
      expect(fetch.mock.calls.filter(([, init]) => String(init?.body).includes('PluginSettingsList')).length).toBeGreaterThan(listsBefore),
    );
  });
});
