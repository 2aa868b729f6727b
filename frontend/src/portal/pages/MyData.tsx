import { useState } from 'react';
import { Button, Card, Descriptions, Form, Input, Modal } from 'antd';
import { gql } from '../../api/client';
import { type UserError } from '../../api/errors';
import { currentToken } from '../../auth/session';
import { FormAlert } from '../../components/FormAlert';
import { useMutationForm } from '../../components/MutationDialog';
import { WorkerRevealMyDataDocument, type WorkerRevealMyDataMutation } from '../../graphql/generated';
import { useWorker } from '../worker';

type Plain = NonNullable<WorkerRevealMyDataMutation['workerRevealMyData']['data']>;
type Purpose = 'reveal' | 'download';

/** Save the copy of one's own data the server sends (POST /portal/my-data, password in the body). */
async function downloadMyData(password: string): Promise<string | null> {
  const token = currentToken();
  const res = await fetch('/portal/my-data', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ password }),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { messageZh?: string } } | null;
    return body?.error?.messageZh ?? '下载失败，请稍后重试';
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `我的个人信息-${new Date().toISOString().slice(0, 10)}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return null;
}

export default function MyData() {
  const { worker } = useWorker();
  const [purpose, setPurpose] = useState<Purpose | null>(null);
  const [plain, setPlain] = useState<Plain | null>(null);
  const [form] = Form.useForm<{ password: string }>();
  // revealing is a mutation; downloading is a plain POST whose refusal is shaped like a payload error
  const { busy, formErrors, submit: confirm } = useMutationForm(form, {
    mutate: async ({ password }: { password: string }): Promise<{ errors: readonly UserError[]; data?: Plain | null }> => {
      if (purpose === 'reveal') return (await gql(WorkerRevealMyDataDocument, { password })).workerRevealMyData;
      const problem = await downloadMyData(password);
      return { errors: problem ? [{ field: null, code: 'INVALID_INPUT', message: problem, messageZh: problem }] : [] };
    },
    isDone: (r) => purpose !== 'reveal' || !!r.data,
    onDone: (r) => {
      if (r.data) setPlain(r.data);
      setPurpose(null);
      form.resetFields();
    },
    errorOptions: { messages: { INVALID_CREDENTIALS: '密码错误' } },
  });

  return (
    <>
      <Card size="small" title="我的信息" style={{ marginBottom: 12 }}>
        <Descriptions column={1} size="small">
          <Descriptions.Item label="姓名">{plain?.name ?? worker.name}</Descriptions.Item>
          <Descriptions.Item label="身份证号码">{plain?.idNumber ?? worker.idNumberMasked}</Descriptions.Item>
          <Descriptions.Item label="手机号码">{plain?.phone ?? worker.phoneMasked}</Descriptions.Item>
          {plain?.memberNumber && <Descriptions.Item label="会员编号">{plain.memberNumber}</Descriptions.Item>}
          {plain?.unionName && <Descriptions.Item label="所在工会">{plain.unionName}</Descriptions.Item>}
          {plain?.employer && <Descriptions.Item label="工作单位">{plain.employer}</Descriptions.Item>}
          {plain?.birthDate && <Descriptions.Item label="出生日期">{plain.birthDate}</Descriptions.Item>}
        </Descriptions>
        {plain ? (
          <Button block onClick={() => setPlain(null)}>隐藏完整信息</Button>
        ) : (
          <Button block onClick={() => setPurpose('reveal')}>查看完整信息</Button>
        )}
      </Card>
      <Card size="small" title="个人信息副本">
        <p style={{ color: '#666', marginTop: 0 }}>依据《个人信息保护法》第四十五条，您可以下载本平台保存的您的个人信息副本。每次查看和下载都会记录在案。</p>
        <Button block onClick={() => setPurpose('download')}>下载我的个人信息</Button>
      </Card>
      <Modal
        open={purpose !== null}
        title={purpose === 'reveal' ? '查看完整信息' : '下载个人信息副本'}
        onCancel={() => setPurpose(null)}
        footer={null}
        destroyOnHidden
      >
        <p>为保护您的个人信息，请再次输入登录密码。</p>
        <FormAlert errors={formErrors} />
        <Form form={form} layout="vertical" onFinish={(v) => void confirm(v)} requiredMark={false}>
          <Form.Item name="password" label="登录密码" rules={[{ required: true, message: '请输入密码' }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            确认
          </Button>
        </Form>
      </Modal>
    </>
  );
}
