/** Login: province picker (loginTenants), username, password. */
import { useEffect, useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { Alert, Button, Card, Form, Input, Select, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { gql } from '../api/client';
import { ApiError } from '../api/client';
import { ERROR_MESSAGES, applyUserErrors, describeError, formatWait, retryAfterSeconds, type FormLevelError } from '../api/errors';
import { useGql } from '../api/useGql';
import { LoginDocument, LoginTenantsDocument } from '../graphql/generated';
import { clearNotice, lastTenant, startSession } from '../auth/session';
import { useSession } from '../auth/AuthProvider';
import { FormAlert } from '../components/FormAlert';
import { lockoutText } from '../lib/access';

interface LoginForm {
  tenantCode: string;
  username: string;
  password: string;
}

const LOGIN_MESSAGES = {
  'password.INVALID_CREDENTIALS': '用户名或密码错误',
  INVALID_CREDENTIALS: '省份、用户名或密码错误',
  'tenantCode.NOT_FOUND': '该省份不存在或未开通',
};

export default function Login() {
  const [form] = Form.useForm<LoginForm>();
  const navigate = useNavigate();
  const location = useLocation();
  const { session, notice } = useSession();
  const tenants = useGql(LoginTenantsDocument);
  const [submitting, setSubmitting] = useState(false);
  const [formErrors, setFormErrors] = useState<FormLevelError[]>([]);
  // A lock-out the server timed (retryAfter): when it ends, as a clock time, and the seconds left.
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const lockLeft = lockedUntil === null ? 0 : Math.max(0, Math.ceil((lockedUntil - now) / 1000));

  useEffect(() => {
    if (lockedUntil === null) return undefined;
    const timer = window.setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= lockedUntil) {
        setLockedUntil(null);
        setFormErrors([]);
      }
    }, 1000);
    return () => window.clearInterval(timer);
  }, [lockedUntil]);

  const lockOut = (seconds: number | null) => {
    if (seconds === null) {
      setFormErrors([{ code: 'TOO_MANY_ATTEMPTS', text: ERROR_MESSAGES.TOO_MANY_ATTEMPTS ?? '尝试次数过多，请稍后再试' }]);
      return;
    }
    const t = Date.now();
    setNow(t);
    setLockedUntil(t + seconds * 1000);
    setFormErrors([]);
  };

  useEffect(() => {
    document.title = '登录 · 会家';
  }, []);

  useEffect(() => {
    const remembered = lastTenant();
    const options = tenants.data?.loginTenants ?? [];
    if (!form.getFieldValue('tenantCode') && options.length > 0) {
      const pick = options.find((t) => t.code === remembered) ?? options.find((t) => t.code !== 'platform') ?? options[0];
      form.setFieldValue('tenantCode', pick.code);
    }
  }, [tenants.data, form]);

  if (session) return <Navigate to={from} replace />;

  const onFinish = async (values: LoginForm) => {
    setSubmitting(true);
    setFormErrors([]);
    try {
      const { login } = await gql(LoginDocument, values);
      if (login.errors.length > 0 || !login.token || !login.expiresAt) {
        const locked = login.errors.find((e) => e.code === 'TOO_MANY_ATTEMPTS');
        if (locked) {
          lockOut(retryAfterSeconds(locked));
          return;
        }
        // INVALID_CREDENTIALS comes without a field: put it beside the password.
        const errs = login.errors.map((e) => (e.code === 'INVALID_CREDENTIALS' && !e.field ? { ...e, field: 'password' } : e));
        const lockout = login.errors.map((e) => (e.code === 'TOO_MANY_ATTEMPTS' ? lockoutText(e.extensions) : null)).find(Boolean);
        setFormErrors(applyUserErrors(form, errs, { messages: lockout ? { ...LOGIN_MESSAGES, TOO_MANY_ATTEMPTS: lockout } : LOGIN_MESSAGES }));
        return;
      }
      clearNotice();
      startSession({ token: login.token, expiresAt: login.expiresAt, tenantCode: values.tenantCode, username: values.username });
      navigate(from, { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'TOO_MANY_ATTEMPTS') {
        lockOut(retryAfterSeconds(e));
        return;
      }
      setFormErrors([{ code: 'INTERNAL', text: describeError(e) }]);
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <main className="hj-login">
      <div className="hj-login-panel">
        <div className="hj-login-brand">
          <span className="hj-brand-mark hj-brand-mark-lg" aria-hidden="true">
            会
          </span>
          <div>
            <Typography.Title level={1} className="hj-login-title">
              会家 · 工会服务职工平台
            </Typography.Title>
            <Typography.Text type="secondary">省总工会管理后台</Typography.Text>
          </div>
        </div>
        <Card className="hj-login-card" variant="borderless">
          <Typography.Title level={2} className="hj-login-subtitle">
            账号登录
          </Typography.Title>
          {notice && <Alert type="warning" showIcon message={notice} role="alert" style={{ marginBottom: 16 }} />}
          {tenants.error ? (
            <Alert
              type="error"
              showIcon
              role="alert"
              style={{ marginBottom: 16 }}
              message={`无法获取省份列表：${describeError(tenants.error)}`}
              action={
                <Button size="small" onClick={() => void tenants.refetch()}>
                  重试
                </Button>
              }
            />
          ) : null}
          {lockLeft > 0 && (
            <Alert
              type="error"
              showIcon
              role="alert"
              style={{ marginBottom: 16 }}
              message="尝试次数过多，账号已暂时锁定"
              description={`请在 ${formatWait(lockLeft)}后再试。`}
            />
          )}
          <FormAlert errors={formErrors} />
          <Form<LoginForm> form={form} layout="vertical" onFinish={onFinish} requiredMark={false} size="large" name="login">
            <Form.Item label="所属省份" name="tenantCode" rules={[{ required: true, message: '请选择所属省份' }]}>
              <Select
                showSearch
                loading={tenants.loading}
                placeholder="请选择省份"
                optionFilterProp="label"
                options={(tenants.data?.loginTenants ?? []).map((t) => ({ value: t.code, label: t.name }))}
                notFoundContent={tenants.loading ? '加载中…' : '暂无可选省份'}
              />
            </Form.Item>
            <Form.Item label="用户名" name="username" rules={[{ required: true, whitespace: true, message: '请输入用户名' }]}>
              <Input prefix={<UserOutlined />} autoComplete="username" placeholder="请输入用户名" />
            </Form.Item>
            <Form.Item label="密码" name="password" rules={[{ required: true, message: '请输入密码' }]}>
              <Input.Password prefix={<LockOutlined />} autoComplete="current-password" placeholder="请输入密码" />
            </Form.Item>
            <Form.Item style={{ marginBottom: 8 }}>
              <Button type="primary" htmlType="submit" block loading={submitting} disabled={lockLeft > 0}>
                {lockLeft > 0 ? `${formatWait(lockLeft)}后可重试` : '登录'}
              </Button>
            </Form.Item>
          </Form>
        </Card>
      </div>
    </main>
  );
}
