/**
 * 单位参保: pick a plan and a unit, choose its members (equal shares), see the enrolment ratio against
 * the plan's minimum as you choose, enrol them (all or nothing: the server's refusals are listed), then
 * the unit's enrolments and, for finance, paying the term's premiums into the plan's fund.
 */
import { useMemo, useState } from 'react';
import { Alert, App, Button, Card, Form, InputNumber, Popconfirm, Progress, Select, Space, Statistic, Table, Typography, Upload } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { DownloadOutlined, UploadOutlined } from '@ant-design/icons';
import { gql } from '../../api/client';
import { describeError, type UserError } from '../../api/errors';
import { downloadFile } from '../../api/files';

import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import {
  MutualAidEnrolDocument,
  MutualAidEnrolFromTemplateDocument,
  MutualAidEnrolmentsDocument,
  MutualAidPremiumsPayDocument,
  MutualAidUnitMembersDocument,
  type MutualAidEnrolmentFieldsFragment,
  type MutualAidUnitKind,
  type MutualAidUnitMembersQuery,
} from '../../graphql/generated';
import { formatDate } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { UNIT_KIND_LABELS, options, pct } from './labels';
import { planOptions, ratioBp, readBase64, requiredRatioBp, usePlans, errorText, type Plan } from './shared';

type MemberRow = MutualAidUnitMembersQuery['members']['nodes'][number];

export function RatioCheck({ eligible, chosen, requiredBp, shares, maxShares }: { eligible: number; chosen: number; requiredBp: number; shares: number; maxShares: number }) {
  const bp = ratioBp(chosen, eligible);
  const met = chosen > 0 && bp >= requiredBp;
  return (
    <Card size="small" className="hj-panel" data-testid="ratio-check" title="参保比例核对">
      <Space size="large" wrap>
        <Statistic title="本单位在册会员" value={eligible} suffix="人" />
        <Statistic title="本次选择" value={chosen} suffix="人" />
        <Statistic title="参保比例" value={pct(bp)} valueStyle={{ color: met ? '#389e0d' : '#cf1322' }} />
        <Statistic title="最低比例" value={pct(requiredBp)} />
        <Statistic title="每人份数" value={shares} suffix={`/ 最多${maxShares}份`} />
      </Space>
      <Progress percent={Math.min(100, bp / 100)} success={{ percent: Math.min(100, requiredBp / 100) }} showInfo={false} status={met ? 'success' : 'exception'} />
      <Typography.Text type={met ? 'success' : 'danger'}>
        {chosen === 0 ? '请勾选参保会员' : met ? '已达到最低参保比例' : `未达到最低参保比例，还需至少 ${Math.max(0, Math.ceil((requiredBp * eligible) / 10000) - chosen)} 人`}
      </Typography.Text>
      <div>
        <Typography.Text type="secondary">同一单位每人参保份数相同；退休、超龄等不符合条件的会员以服务器核对为准。</Typography.Text>
      </div>
    </Card>
  );
}

type RowError = UserError & { extensions?: unknown };
interface TemplateRefusal { key: number; row: number | null; text: string }

const extension = (e: RowError, key: string): unknown => (e.extensions as Record<string, unknown> | null | undefined)?.[key];

/** The refusals of a template upload, one line per row (a file-wide refusal has no row). */
export function templateRefusals(errors: readonly RowError[]): TemplateRefusal[] {
  return errors.map((e, i) => {
    const row = extension(e, 'row');
    // the server's sentence starts with "第N行：", which the row column already says
    return { key: i, row: typeof row === 'number' ? row : null, text: errorText(e).replace(/^第\d+行：/, '') };
  });
}

const MAX_TEMPLATE_BYTES = 10 * 1024 * 1024;

/**
 * 名单模板: download the plan's template, upload it filled in. The whole list is enrolled or none of it;
 * every row that stands in the way is listed with its row number.
 */
export function TemplateEnrol({ plan, unitId, unitKind, onEnrolled }: { plan: Plan; unitId: string; unitKind: MutualAidUnitKind; onEnrolled: (count: number) => Promise<void> | void }) {
  const { message } = App.useApp();
  const [downloading, setDownloading] = useState(false);
  const [uploading, setUploading] = useState(false);
  const [refusals, setRefusals] = useState<TemplateRefusal[]>([]);
  const [fileName, setFileName] = useState<string>();

  const template = async () => {
    setDownloading(true);
    try {
      await downloadFile(`/mutual_aid/enrolment-template/${encodeURIComponent(plan.code)}`, `参保名单模板-${plan.nameZh}.xlsx`);
    } catch (e) {
      message.error(`模板下载失败：${describeError(e)}`);
    } finally {
      setDownloading(false);
    }
  };

  const upload = async (file: File) => {
    setRefusals([]);
    setFileName(file.name);
    if (file.size > MAX_TEMPLATE_BYTES) {
      setRefusals([{ key: 0, row: null, text: '文件不能超过10MB' }]);
      return;
    }
    setUploading(true);
    try {
      const { mutualAidEnrolFromTemplate: r } = await gql(MutualAidEnrolFromTemplateDocument, {
        // a new key per chosen file: the same file sent again after a lost answer is a new choice of the clerk's
        input: { plan: plan.code, orgUnitId: unitId, unitKind, batchKey: crypto.randomUUID(), contentBase64: await readBase64(file) },
      });
      if (r.errors.length) {
        setRefusals(templateRefusals(r.errors));
        return;
      }
      message.success(`已按名单为 ${r.enrolments.length} 名会员办理参保`);
      await onEnrolled(r.enrolments.length);
    } catch (e) {
      setRefusals([{ key: 0, row: null, text: describeError(e) }]);
    } finally {
      setUploading(false);
    }
  };

  return (
    <Card size="small" className="hj-panel" style={{ marginTop: 12 }} title="按模板导入名单" data-testid="enrol-template">
      <Space wrap>
        <Button icon={<DownloadOutlined />} loading={downloading} onClick={() => void template()}>
          下载模板
        </Button>
        <Upload
          accept=".xlsx"
          maxCount={1}
          showUploadList={false}
          beforeUpload={(file) => {
            void upload(file);
            return false;
          }}
        >
          <Button type="primary" icon={<UploadOutlined />} loading={uploading}>
            上传名单
          </Button>
        </Upload>
        <Typography.Text type="secondary">模板列：身份证号、姓名、份数；整份名单一并办理，有任何一行不符合条件时均不予办理。</Typography.Text>
      </Space>
      {refusals.length > 0 && (
        <>
          <Alert
            type="error"
            showIcon
            style={{ marginTop: 12 }}
            message={`名单${fileName ? `「${fileName}」` : ''}未予办理：共 ${refusals.length} 处问题，请修改后重新上传`}
          />
          <Table<TemplateRefusal>
            size="small"
            style={{ marginTop: 8 }}
            data-testid="template-refusals"
            rowKey="key"
            dataSource={refusals}
            pagination={refusals.length > 20 ? { pageSize: 20 } : false}
            columns={[
              { title: '行号', dataIndex: 'row', width: 80, render: (v: number | null) => v ?? '—' },
              { title: '问题', dataIndex: 'text' },
            ]}
          />
        </>
      )}
    </Card>
  );
}

/** A member's database id from its global id ("Member:12" in base64), to name them in a refusal. */
function dbId(globalId: string): number | null {
  try {
    const n = Number(atob(globalId).split(':')[1]);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export default function MutualAidEnrol() {
  const { can } = useAuth();
  const { message } = App.useApp();
  const { plans } = usePlans();
  const [planCode, setPlanCode] = useState<string>();
  const [unitId, setUnitId] = useState<string>();
  const [unitKind, setUnitKind] = useState<MutualAidUnitKind>('OTHER');
  const [shares, setShares] = useState(1);
  const [chosen, setChosen] = useState<string[]>([]);
  const [refusals, setRefusals] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const plan = plans.find((p) => p.code === planCode);
  const members = useConnection(
    MutualAidUnitMembersDocument,
    { filter: { orgUnitId: unitId ?? null, states: ['JOINED'] } },
    (d) => d.members,
    { pageSize: 100, skip: !unitId },
  );
  const enrolments = useConnection(MutualAidEnrolmentsDocument, { plan: planCode ?? null, orgUnitId: unitId ?? null }, (d) => d.mutualAidEnrolments, { pageSize: 20 });
  const eligible = members.connection?.totalCount ?? 0;
  // once the unit is enrolled for the plan's current term, the API adds only new hires (within the plan's
  // days, no ratio check); the list is newest first, so a cover still running is on its first page, and a
  // past term's enrolment does not count (cover days are China's, like the API's)
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const newHires = !!plan && !!unitId && plan.newHireDays != null && (enrolments.connection?.nodes ?? []).some((e) => e.coverTo >= today);
  const required = plan ? requiredRatioBp(plan, unitKind, eligible) : 0;
  // one key per choice of plan, unit, members and shares: sending the same batch again (a retry after
  // a lost answer) cannot enrol twice, while a changed choice is a new batch
  const batchKey = useMemo(() => crypto.randomUUID(), [planCode, unitId, chosen, shares]);

  const enrol = async () => {
    if (!plan || !unitId) return;
    setBusy(true);
    setRefusals([]);
    try {
      const { mutualAidEnrol: r } = await gql(MutualAidEnrolDocument, {
        input: { plan: plan.code, orgUnitId: unitId, unitKind, memberIds: chosen, shares, batchKey },
      });
      if (r.errors.length) {
        const names = new Map((members.connection?.nodes ?? []).map((m) => [dbId(m.id), m.name]));
        setRefusals(
          r.errors.map((e) => {
            const who = names.get(Number(extension(e, 'memberId')));
            return who ? `${who}：${errorText(e)}` : errorText(e);
          }),
        );
        return;
      }
      message.success(`已为 ${r.enrolments.length} 名会员办理参保`);
      setChosen([]);
      await enrolments.refetch();
    } catch (e) {
      setRefusals([describeError(e)]);
    } finally {
      setBusy(false);
    }
  };

  const pay = async () => {
    if (!plan || !unitId) return;
    const { mutualAidPremiumsPay: r } = await gql(MutualAidPremiumsPayDocument, { plan: plan.code, orgUnitId: unitId });
    if (r.errors.length) message.error(errorText(r.errors[0]));
    else if (r.premiums.length === 0) message.info('本单位本期会费均已入账');
    else message.success(`已入账 ${r.premiums.length} 笔会费，共 ${formatYuan(r.premiums.reduce((s, x) => s + Number(x.amountFen), 0))}`);
  };

  const memberColumns: ColumnsType<MemberRow> = [
    { title: '姓名', dataIndex: 'name' },
    { title: '身份证号', dataIndex: 'idNumberMasked', render: (v: string) => <span className="hj-mono-small">{v}</span> },
    { title: '年龄', dataIndex: 'age', width: 80 },
    { title: '状态', dataIndex: 'stateLabel', width: 100 },
  ];
  const enrolmentColumns: ColumnsType<MutualAidEnrolmentFieldsFragment> = [
    { title: '计划', dataIndex: 'planCode', render: (c: string) => plans.find((p) => p.code === c)?.nameZh ?? c },
    { title: '份数', dataIndex: 'shares', width: 80 },
    { title: '保障期', key: 'cover', render: (_, e) => `${formatDate(e.coverFrom)} 至 ${formatDate(e.coverTo)}` },
    { title: '会费', dataIndex: 'premiumFen', align: 'right', render: (v: number) => formatYuan(v) },
  ];

  return (
    <PageContainer
      title="单位参保"
      subTitle="以单位为整体参保，比例不足或有不符合条件的会员时整批不予办理"
      extra={
        can('mutual_aid.premium') && plan && unitId ? (
          <Popconfirm title="将本单位本期未入账的会费记入该计划互助金？" okText="入账" cancelText="取消" onConfirm={() => void pay()}>
            <Button>会费入账</Button>
          </Popconfirm>
        ) : undefined
      }
    >
      <Card size="small" className="hj-panel" style={{ marginBottom: 16 }}>
        <Form layout="inline" name="mutual-aid-enrol">
          <Form.Item label="保障计划" htmlFor="mutual-aid-enrol-plan">
            <Select id="mutual-aid-enrol-plan" style={{ minWidth: 220 }} placeholder="选择计划" options={planOptions(plans)} value={planCode} onChange={(v) => { setPlanCode(v); setChosen([]); }} />
          </Form.Item>
          <Form.Item label="参保单位" htmlFor="mutual-aid-enrol-unit">
            <OrgUnitPicker id="mutual-aid-enrol-unit" value={unitId} onChange={(v) => { setUnitId(v); setChosen([]); }} placeholder="输入工会名称" />
          </Form.Item>
          <Form.Item label="单位性质" htmlFor="mutual-aid-enrol-kind">
            <Select id="mutual-aid-enrol-kind" style={{ minWidth: 120 }} options={options(UNIT_KIND_LABELS)} value={unitKind} onChange={setUnitKind} />
          </Form.Item>
          <Form.Item label="每人份数" htmlFor="mutual-aid-enrol-shares">
            <InputNumber id="mutual-aid-enrol-shares" min={1} max={plan?.maxShares ?? 1} value={shares} onChange={(v) => setShares(v ?? 1)} />
          </Form.Item>
        </Form>
      </Card>
      {plan && unitId && (
        <>
          {newHires ? (
            <Alert
              type="info"
              showIcon
              data-testid="new-hire-mode"
              message="本单位本期已参保：补充参保新入职会员"
              description={`可为本单位参保后入职、入职不超过 ${plan.newHireDays} 天的会员补充参保，不再核对参保比例；超出期限或参保前已入职的会员将不予办理，并在下方说明原因。`}
            />
          ) : (
            <RatioCheck eligible={eligible} chosen={chosen.length} requiredBp={required} shares={shares} maxShares={plan.maxShares} />
          )}
          {refusals.length > 0 && (
            <Alert
              type="error"
              showIcon
              style={{ marginTop: 12 }}
              message="未予办理参保"
              description={
                <ul style={{ margin: 0, paddingLeft: 20 }}>
                  {refusals.map((r, i) => (
                    <li key={i}>{r}</li>
                  ))}
                </ul>
              }
              data-testid="enrol-refusals"
            />
          )}
          {can('mutual_aid.enrol') && (
            <TemplateEnrol
              plan={plan}
              unitId={unitId}
              unitKind={unitKind}
              onEnrolled={async () => {
                setRefusals([]);
                await enrolments.refetch();
              }}
            />
          )}
          <Card size="small" className="hj-panel" style={{ marginTop: 12 }} title={newHires ? '选择新入职会员' : '选择参保会员'}>
            <ConnectionTable<MemberRow>
              source={members}
              columns={memberColumns}
              rowKey="id"
              rowSelection={{ selectedRowKeys: chosen, onChange: (keys) => setChosen(keys.map(String)), preserveSelectedRowKeys: true }}
              emptyText="该单位暂无在册会员"
            />
            {can('mutual_aid.enrol') && (
              <Button type="primary" disabled={chosen.length === 0} loading={busy} onClick={() => void enrol()} style={{ marginTop: 12 }}>
                {newHires ? '补充参保' : '办理参保'}（{chosen.length} 人）
              </Button>
            )}
          </Card>
        </>
      )}
      <Card size="small" className="hj-panel" style={{ marginTop: 16 }} title="参保记录">
        <ConnectionTable<MutualAidEnrolmentFieldsFragment> source={enrolments} columns={enrolmentColumns} rowKey="id" emptyText="暂无参保记录" />
      </Card>
    </PageContainer>
  );
}
