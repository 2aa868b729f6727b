import { useState } from 'react';
import { Link } from 'react-router';
import { Alert, Button, Card, Form, Input, List, Modal, Tag } from 'antd';
import { gql } from '../../api/client';
import { useGql } from '../../api/useGql';
import { describeError } from '../../api/errors';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { FormAlert } from '../../components/FormAlert';
import { useMutationForm } from '../../components/MutationDialog';
import {
  MyJoinApplicationsDocument,
  PortalUnitsDocument,
  WorkerJoinApplyDocument,
  WorkerJoinWithdrawDocument,
  type PortalUnitsQuery,
} from '../../graphql/generated';
import { useWorker } from '../worker';

type Unit = PortalUnitsQuery['portalUnits']['nodes'][number];

const STATUS: Record<string, { text: string; color: string }> = {
  PENDING: { text: '待审核', color: 'processing' },
  APPROVED: { text: '已通过', color: 'success' },
  REJECTED: { text: '未通过', color: 'error' },
  WITHDRAWN: { text: '已撤回', color: 'default' },
};

function MyApplications() {
  const { data, error, loading, refetch } = useGql(MyJoinApplicationsDocument);
  if (loading && !data) return <LoadingState minHeight={80} />;
  if (error) return <ErrorState error={error} onRetry={() => void refetch()} />;
  const apps = data?.myWorker.joinApplications ?? [];
  if (apps.length === 0) return null;
  const withdraw = async (id: string) => {
    const res = (await gql(WorkerJoinWithdrawDocument, { id })).workerJoinWithdraw;
    if (res.errors.length) Modal.error({ title: '撤回失败', content: res.errors[0].messageZh ?? describeError(null) });
    await refetch();
  };
  return (
    <Card size="small" title="我的入会申请" style={{ marginBottom: 12 }}>
      <List
        dataSource={apps}
        renderItem={(a) => (
          <List.Item
            data-testid="join-application"
            actions={a.status === 'PENDING' ? [<Button key="w" size="small" onClick={() => void withdraw(a.id)}>撤回</Button>] : []}
          >
            <List.Item.Meta
              title={<>{a.unionName} <Tag color={STATUS[a.status]?.color}>{STATUS[a.status]?.text ?? a.status}</Tag></>}
              description={
                <>
                  {a.status === 'PENDING' && (
                    <div>工会将于 {a.dueOn} 前答复{a.overdue ? '（已超期，可联系工会）' : ''}</div>
                  )}
                  {a.reason && <div>理由：{a.reason}</div>}
                </>
              }
            />
          </List.Item>
        )}
      />
    </Card>
  );
}

export default function Join() {
  const { worker, reload } = useWorker();
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const [chosen, setChosen] = useState<Unit | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const [form] = Form.useForm<{ employer: string; note?: string }>();
  const units = useGql(PortalUnitsDocument, { name: search || null, first: 20 }, { skip: worker.status !== 'NOT_MEMBER' });
  const { busy, formErrors, submit: apply } = useMutationForm(form, {
    mutate: async (v: { employer: string; note?: string }) =>
      (await gql(WorkerJoinApplyDocument, { input: { orgUnitId: chosen!.id, employer: v.employer, note: v.note ?? '' } })).workerJoinApply,
    onDone: async () => {
      setChosen(null);
      form.resetFields();
      setRefreshKey((k) => k + 1);
      await reload();
    },
  });

  if (worker.status === 'MEMBER') {
    return <Alert type="success" showIcon message="您已是工会会员" description={<Link to="/card">查看电子会员卡</Link>} />;
  }
  if (worker.status === 'PROOF_NEEDED') {
    return <Alert type="warning" showIcon message="已有使用您身份证号码的会员档案" description={<Link to="/bind">请绑定会员身份</Link>} />;
  }

  return (
    <>
      <MyApplications key={refreshKey} />
      <Card size="small" title="申请加入工会">
        <p style={{ color: '#666', marginTop: 0 }}>
          请找到您工作单位的基层工会。工会将在 {worker.joinDeadlineWorkingDays} 个工作日内答复。
        </p>
        <Input.Search
          placeholder="输入工会或单位名称"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onSearch={(v) => setSearch(v.trim())}
          enterButton="搜索"
          allowClear
          maxLength={50}
          aria-label="搜索工会"
        />
        {units.loading && !units.data ? (
          <LoadingState minHeight={80} />
        ) : units.error ? (
          <ErrorState error={units.error} onRetry={() => void units.refetch()} />
        ) : (units.data?.portalUnits.nodes.length ?? 0) === 0 ? (
          <EmptyState description="没有找到相符的工会，请换个名称试试" />
        ) : (
          <List
            style={{ marginTop: 8 }}
            dataSource={units.data?.portalUnits.nodes ?? []}
            renderItem={(u) => (
              <List.Item actions={[<Button key="a" size="small" type="primary" onClick={() => setChosen(u)}>申请</Button>]}>
                <List.Item.Meta title={u.name} description={u.parentName ?? ''} />
              </List.Item>
            )}
          />
        )}
      </Card>
      <Modal
        open={chosen !== null}
        title={chosen ? `申请加入 ${chosen.name}` : ''}
        onCancel={() => setChosen(null)}
        footer={null}
        destroyOnHidden
      >
        <FormAlert errors={formErrors} />
        <Form form={form} layout="vertical" onFinish={(v) => {
            if (chosen) void apply(v);
          }} requiredMark={false}>
          <Form.Item name="employer" label="工作单位" rules={[{ required: true, message: '请填写工作单位' }]}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="note" label="备注（选填）">
            <Input.TextArea maxLength={500} rows={2} />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            提交申请
          </Button>
        </Form>
      </Modal>
    </>
  );
}
