/**
 * Province plugin settings (tenant admins at the province root): each enabled plugin's current
 * settings as JSON, its schema, and its version history with revert. Saving sends the version the
 * editor started from, so a concurrent change is refused (CONFLICT) rather than overwritten.
 */
import { useEffect, useState } from 'react';
import { App, Alert, Button, Card, Descriptions, Input, Modal, Space, Table, Tabs, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { HistoryOutlined, ReloadOutlined, SaveOutlined } from '@ant-design/icons';
import { gql } from '../api/client';
import { describeError, errorMessage, type UserError } from '../api/errors';
import { useGql } from '../api/useGql';
import {
  PluginSettingsHistoryDocument,
  PluginSettingsListDocument,
  PluginSettingsRevertDocument,
  PluginSettingsUpdateDocument,
  type PluginSettingsFieldsFragment,
  type PluginSettingsHistoryQuery,
} from '../graphql/generated';
import { PageContainer } from '../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { formatDateTime } from '../lib/format';

type Plugin = PluginSettingsFieldsFragment;
type Version = PluginSettingsHistoryQuery['pluginSettingsHistory']['nodes'][number];

export const PLUGIN_LABELS: Record<string, string> = {
  builtin: '全国通用规则',
  shanghai: '上海市规则',
  beijing: '北京市规则',
  fujian: '福建省规则',
};

const SOURCE_LABELS: Record<string, string> = { MANIFEST: '配置文件同步', API: '在线修改' };

const TYPE_WORDS: Record<string, string> = {
  int: '整数',
  integer: '整数',
  str: '文本',
  string: '文本',
  bool: '是/否',
  boolean: '是/否',
  float: '数字',
  table: '对象',
  object: '对象',
  array: '列表',
  list: '列表',
  null: '空值',
};

/** The server's English problem text (from the plugin's schema check) as a Chinese phrase. */
export function settingsProblem(message: string): string {
  const text = message.replace(/^setting '[^']*': /, '');
  const typed = /expected (\w+), got (\w+)/i.exec(text);
  if (typed) return `应为${TYPE_WORDS[typed[1].toLowerCase()] ?? typed[1]}，实际为${TYPE_WORDS[typed[2].toLowerCase()] ?? typed[2]}`;
  if (/^unknown setting/i.test(text)) return '没有这个设置项（请检查拼写）';
  if (/^missing required/i.test(text)) return '缺少必填的设置项';
  if (/invalid key/i.test(text)) return '键名格式不正确（如地区代码须为 6 位数字、年份须为 4 位数字）';
  if (/must be a JSON object/i.test(text)) return '设置必须是一个 JSON 对象（以 { 开头）';
  if (/>=|<=|>|<|pattern|length/i.test(text)) return '取值超出允许范围或格式不正确';
  return '取值不符合要求';
}

/** Chinese text for a failed save: which key is wrong and how, or the general meaning of the code. */
export function saveErrorText(err: UserError, currentVersion?: number): string {
  if (err.code === 'PLUGIN_CONFIG' && err.field?.startsWith('settings')) {
    const key = err.field.slice('settings'.length).replace(/^\./, '');
    return key ? `设置项“${key}”：${settingsProblem(err.message)}` : settingsProblem(err.message);
  }
  if (err.code === 'CONFLICT') {
    return `保存失败：设置已被他人修改${currentVersion === undefined ? '' : `（您编辑的是第 ${currentVersion} 版）`}，请刷新后重新修改`;
  }
  return errorMessage(err.code, err.field);
}

function pretty(value: unknown): string {
  return JSON.stringify(value ?? {}, null, 2);
}

function VersionTag({ p }: { p: Pick<Plugin, 'version' | 'source'> }) {
  return (
    <Space size={4}>
      <Tag color="red">第 {p.version} 版</Tag>
      {p.source && <Tag>{SOURCE_LABELS[p.source] ?? p.source}</Tag>}
    </Space>
  );
}

function History({ plugin, currentVersion, onReverted }: { plugin: string; currentVersion: number; onReverted: () => void }) {
  const { message, modal } = App.useApp();
  const q = useGql(PluginSettingsHistoryDocument, { plugin, first: 50 });
  const [viewing, setViewing] = useState<Version | null>(null);

  useEffect(() => {
    void q.refetch();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [currentVersion]);

  const revert = (v: Version) =>
    modal.confirm({
      title: `恢复为第 ${v.version} 版的设置？`,
      content: '恢复会保存为一个新版本，原有历史保留。',
      okText: '恢复',
      cancelText: '取消',
      onOk: async () => {
        try {
          const { pluginSettingsRevert: r } = await gql(PluginSettingsRevertDocument, {
            plugin,
            toVersion: v.version,
            expectedVersion: currentVersion,
          });
          if (r.errors.length) {
            message.error(saveErrorText(r.errors[0], currentVersion));
            return;
          }
          message.success(`已恢复为第 ${v.version} 版的设置`);
          onReverted();
        } catch (e) {
          message.error(describeError(e));
        }
      },
    });

  const columns: ColumnsType<Version> = [
    { title: '版本', dataIndex: 'version', width: 80, render: (n: number) => `第 ${n} 版` },
    { title: '来源', dataIndex: 'source', width: 120, render: (s: string) => SOURCE_LABELS[s] ?? s },
    { title: '修改人', dataIndex: 'changedBy', width: 120 },
    {
      title: '修改的设置项',
      dataIndex: 'changedKeys',
      render: (keys: string[]) =>
        keys.length ? (
          <Space size={[4, 4]} wrap>
            {keys.map((k) => (
              <Tag key={k}>{k}</Tag>
            ))}
          </Space>
        ) : (
          <Typography.Text type="secondary">初始版本或无变化</Typography.Text>
        ),
    },
    { title: '时间', dataIndex: 'createdAt', width: 170, responsive: ['md'], render: formatDateTime },
    {
      title: '操作',
      key: 'actions',
      width: 150,
      render: (_, v) => (
        <Space size={0}>
          <Button type="link" size="small" onClick={() => setViewing(v)} aria-label={`查看第 ${v.version} 版`}>
            查看
          </Button>
          {v.version !== currentVersion && (
            <Button type="link" size="small" onClick={() => revert(v)} aria-label={`恢复第 ${v.version} 版`}>
              恢复
            </Button>
          )}
        </Space>
      ),
    },
  ];

  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  return (
    <>
      <Table<Version>
        size="small"
        rowKey="version"
        loading={q.loading}
        columns={columns}
        dataSource={q.data?.pluginSettingsHistory.nodes ?? []}
        pagination={false}
        locale={{ emptyText: '暂无版本记录' }}
      />
      <Modal open={viewing !== null} title={viewing ? `第 ${viewing.version} 版的设置` : ''} footer={null} onCancel={() => setViewing(null)} width={640}>
        <pre className="hj-json">{viewing ? pretty(viewing.settings) : ''}</pre>
      </Modal>
    </>
  );
}

function PluginEditor({ p, onSaved }: { p: Plugin; onSaved: () => void }) {
  const { message } = App.useApp();
  const [text, setText] = useState(() => pretty(p.settings));
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    setText(pretty(p.settings));
    setProblems([]);
  }, [p.plugin, p.version, p.settings]);

  const save = async () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      setProblems([`JSON 格式有误，无法保存：${e instanceof SyntaxError ? '请检查括号、引号和逗号' : '无法解析'}`]);
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      setProblems(['设置必须是一个 JSON 对象（以 { 开头）']);
      return;
    }
    setSaving(true);
    try {
      const { pluginSettingsUpdate: r } = await gql(PluginSettingsUpdateDocument, {
        plugin: p.plugin,
        settings: parsed,
        expectedVersion: p.version,
      });
      if (r.errors.length) {
        setProblems(r.errors.map((e) => saveErrorText(e, p.version)));
        return;
      }
      setProblems([]);
      message.success(r.pluginSettings && r.pluginSettings.version !== p.version ? `已保存为第 ${r.pluginSettings.version} 版，立即生效` : '设置没有变化');
      onSaved();
    } catch (e) {
      setProblems([describeError(e)]);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Descriptions size="small" column={{ xs: 1, sm: 3 }}>
        <Descriptions.Item label="当前版本">
          <VersionTag p={p} />
        </Descriptions.Item>
        <Descriptions.Item label="修改人">{p.changedBy ?? '—'}</Descriptions.Item>
        <Descriptions.Item label="修改时间">{formatDateTime(p.changedAt)}</Descriptions.Item>
      </Descriptions>
      {p.fields.length > 0 ? (
        <Table
          size="small"
          rowKey="name"
          pagination={false}
          dataSource={p.fields}
          columns={[
            { title: '设置项', dataIndex: 'name', render: (n: string) => <Typography.Text code>{n}</Typography.Text> },
            { title: '类型', dataIndex: 'type', responsive: ['md'] },
            { title: '必填', dataIndex: 'required', width: 70, render: (r: boolean) => (r ? '是' : '否') },
            {
              title: '默认值',
              dataIndex: 'default',
              responsive: ['lg'],
              render: (d: unknown) => <Typography.Text ellipsis={{ tooltip: JSON.stringify(d) }} style={{ maxWidth: 260 }}>{JSON.stringify(d)}</Typography.Text>,
            },
            { title: '说明', dataIndex: 'description', render: (d: string | null) => d ?? '—' },
          ]}
        />
      ) : (
        <Typography.Text type="secondary">该插件没有可修改的设置。</Typography.Text>
      )}
      <div>
        <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
          以 JSON 编辑全部设置；未写出的设置项取默认值。保存前会按插件的规则校验，保存后下一次请求即生效。
        </Typography.Paragraph>
        <label htmlFor={`settings-${p.plugin}`} className="hj-sr-only">
          {`${PLUGIN_LABELS[p.plugin] ?? p.plugin}的设置（JSON）`}
        </label>
        <Input.TextArea
          id={`settings-${p.plugin}`}
          value={text}
          onChange={(e) => setText(e.target.value)}
          autoSize={{ minRows: 8, maxRows: 24 }}
          spellCheck={false}
          style={{ fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' }}
          status={problems.length ? 'error' : undefined}
        />
      </div>
      {problems.length > 0 && (
        <Alert type="error" showIcon message="未保存" description={<ul style={{ margin: 0, paddingInlineStart: 20 }}>{problems.map((t) => <li key={t}>{t}</li>)}</ul>} />
      )}
      <Space>
        <Button type="primary" icon={<SaveOutlined />} loading={saving} onClick={() => void save()} aria-label={`保存${PLUGIN_LABELS[p.plugin] ?? p.plugin}的设置`}>
          保存
        </Button>
        <Button icon={<ReloadOutlined />} onClick={() => { setText(pretty(p.settings)); setProblems([]); }}>
          还原编辑
        </Button>
      </Space>
      <Card size="small" title={<Space><HistoryOutlined />版本历史</Space>}>
        <History plugin={p.plugin} currentVersion={p.version} onReverted={onSaved} />
      </Card>
    </Space>
  );
}

export default function PluginSettingsPage() {
  const q = useGql(PluginSettingsListDocument);
  const plugins = q.data?.pluginSettings ?? [];

  let body;
  if (q.error) body = <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  else if (!q.data) body = <LoadingState />;
  else if (plugins.length === 0) body = <EmptyState description="本省没有启用插件" />;
  else
    body = (
      <Tabs
        items={plugins.map((p) => ({
          key: p.plugin,
          label: PLUGIN_LABELS[p.plugin] ?? p.plugin,
          children: <PluginEditor p={p} onSaved={() => void q.refetch()} />,
        }))}
      />
    );

  return (
    <PageContainer title="插件设置" subTitle="本省启用的规则插件（如低保标准、经费分成比例）；修改按版本保存，可随时恢复">
      <Card size="small" className="hj-panel">
        {body}
      </Card>
    </PageContainer>
  );
}
