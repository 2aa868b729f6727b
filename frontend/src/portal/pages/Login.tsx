import { useState } from 'react';
import { Link, Navigate, useLocation } from 'react-router';
import { Alert, Button, Form, Input } from 'antd';
import { gql } from '../../api/client';
import { applyUserErrors, describeError, formatWait, retryAfterSeconds, type FormLevelError } from '../../api/errors';
import { useSession } from '../../auth/AuthProvider';
import { clearNotice, lastTenant, startSession } from '../../auth/session';
import { FormAlert } from '../../components/FormAlert';
import { WorkerLoginDocument } from '../../graphql/generated';
import { AuthShell } from './AuthShell';
import { ProvinceSelect } from './ProvinceSelect';

interface Values {
  tenantCode: string;
  phone: string;
  password: string;
}

export default function Login() {
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [formErrors, setFormErrors] = useState<FormLevelError[]>([]);
  const { session, notice } = useSession();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  if (session) return <Navigate to={from} replace />;

  const submit = async (v: Values) => {
    setBusy(true);
    setFormErrors([]);
    try {
      const res = (await gql(WorkerLoginDocument, { tenantCode: v.tenantCode, phone: v.phone.trim(), password: v.password })).workerLogin;
      if (res.errors.length || !res.token || !res.worker) {
        const wait = retryAfterSeconds(res.errors[0]);
        const rest = applyUserErrors(form, res.errors, { messages: { INVALID_CREDENTIALS: '手机号码或密码错误' } });
        setFormErrors(wait ? [{ code: 'TOO_MANY_ATTEMPTS', text: `尝试次数过多，请 ${formatWait(wait)}后再试` }] : rest);
        return;
      }
      clearNotice();
      startSession({ token: res.token, expiresAt: String(res.expiresAt), tenantCode: v.tenantCode, username: res.worker.name });
    } catch (e) {
      setFormErrors([{ code: 'INTERNAL', text: describeError(e) }]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthShell title="职工登录">
      {notice && <Alert type="warning" showIcon message={notice} style={{ marginBottom: 12 }} />}
      <FormAlert errors={formErrors} />
      <Form form={form} layout="vertical" className="hj-portal-form" onFinish={submit} requiredMark={false}
            initialValues={{ tenantCode: lastTenant() ?? undefined }}>
        <Form.Item name="tenantCode" label="所在省（市）" rules={[{ required: true, message: '请选择所在省（市）' }]}>
          <ProvinceSelect />
        </Form.Item>
        <Form.Item name="phone" label="手机号码" rules={[{ required: true, message: '请输入手机号码' }]}>
          <Input inputMode="tel" autoComplete="tel" maxLength={20} />
        </Form.Item>
        <Form.Item name="password" label="密码" rules={[{ required: true, message: '请输入密码' }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block size="large" loading={busy}>
          登录
        </Button>
      </Form>
      <p style={{ marginTop: 16, textAlign: 'center' }}>
        还没有账号？<Link to="/register">注册</Link>
      </p>
      <p style={{ color: '#888', fontSize: 13 }}>忘记密码请联系所在工会重置。</p>
    </AuthShell>
  );
}
