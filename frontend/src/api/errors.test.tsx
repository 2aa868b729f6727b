import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { act, render, screen } from '@testing-library/react';
import { Form, Input, type FormInstance } from 'antd';
import { buildSchema, isEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError } from './client';
import { ERROR_MESSAGES, NETWORK_ERROR, UNKNOWN_ERROR, applyUserErrors, describeError, errorMessage, formatWait, retryAfterSeconds, type UserError } from './errors';

const schemaPath = resolve(__dirname, '../../../schema.graphql');

describe('ERROR_MESSAGES', () => {
  it('has Chinese text for every ErrorCode in schema.graphql', () => {
    const schema = buildSchema(readFileSync(schemaPath, 'utf8'));
    const type = schema.getType('ErrorCode');
    expect(type && isEnumType(type)).toBe(true);
    const codes = isEnumType(type) ? type.getValues().map((v) => v.name) : [];
    expect(codes.length).toBeGreaterThan(10);
    const missing = codes.filter((c) => !ERROR_MESSAGES[c]);
    expect(missing, `add Chinese messages to src/api/errors.ts for: ${missing.join(', ')}`).toEqual([]);
    for (const c of codes) expect(ERROR_MESSAGES[c]).toMatch(/[\u4e00-\u9fff]/);
  });
});

describe('errorMessage', () => {
  it('prefers field.code overrides, then code overrides, then the dictionary', () => {
    const overrides = { 'code.DUPLICATE': '编码重复', DUPLICATE: '重复了' };
    expect(errorMessage('DUPLICATE', 'code', overrides)).toBe('编码重复');
    expect(errorMessage('DUPLICATE', 'name', overrides)).toBe('重复了');
    expect(errorMessage('DUPLICATE', 'name')).toBe(ERROR_MESSAGES.DUPLICATE);
    expect(errorMessage('SOMETHING_NEW')).toBe(UNKNOWN_ERROR);
    expect(errorMessage(null)).toBe(UNKNOWN_ERROR);
  });

  it('describes thrown errors in Chinese', () => {
    expect(describeError(new NetworkError('fetch failed'))).toBe(NETWORK_ERROR);
    expect(describeError(new ApiError('FORBIDDEN', 'not allowed: org.write'))).toBe(ERROR_MESSAGES.FORBIDDEN);
    expect(describeError(new Error('boom'))).toBe(UNKNOWN_ERROR);
  });
});

function TestForm({ onReady }: { onReady: (f: FormInstance) => void }) {
  const [form] = Form.useForm();
  onReady(form);
  return (
    <Form form={form} name="t">
      <Form.Item label="编码" name="code">
        <Input />
      </Form.Item>
      <Form.Item label="名称" name="name">
        <Input />
      </Form.Item>
      <Form.Item label="上级组织" name="newParentId">
        <Input />
      </Form.Item>
      <Form.Item label="授权" name={['grants', 0, 'role']}>
        <Input />
      </Form.Item>
    </Form>
  );
}

describe('applyUserErrors', () => {
  function setup() {
    let form!: FormInstance;
    render(<TestForm onReady={(f) => (form = f)} />);
    return form;
  }

  it('puts each error beside its field, in Chinese, keyed by code', async () => {
    const form = setup();
    const errors: UserError[] = [
      { field: 'code', code: 'DUPLICATE', message: "an org unit with code 'x' already exists" },
      { field: 'name', code: 'INVALID_INPUT', message: 'name is required' },
    ];
    let rest: ReturnType<typeof applyUserErrors> = [];
    act(() => {
      rest = applyUserErrors(form, errors, { messages: { 'code.DUPLICATE': '该编码已被使用' } });
    });
    expect(rest).toEqual([]);
    expect(form.getFieldError('code')).toEqual(['该编码已被使用']);
    expect(form.getFieldError('name')).toEqual([ERROR_MESSAGES.INVALID_INPUT]);
    expect(await screen.findByText('该编码已被使用')).toBeInTheDocument();
    // the English developer message is never shown
    expect(screen.queryByText(/already exists/)).toBeNull();
  });

  it('maps server field names to form fields and nested names', () => {
    const form = setup();
    act(() => {
      applyUserErrors(form, [{ field: 'parentId', code: 'INVALID_HIERARCHY', message: 'x' }], { fieldMap: { parentId: 'newParentId' } });
      applyUserErrors(form, [{ field: 'role', code: 'FORBIDDEN', message: 'x' }], { fieldMap: { role: ['grants', 0, 'role'] } });
    });
    expect(form.getFieldError('newParentId')).toEqual([ERROR_MESSAGES.INVALID_HIERARCHY]);
    expect(form.getFieldError(['grants', 0, 'role'])).toEqual([ERROR_MESSAGES.FORBIDDEN]);
  });

  it('returns errors without a field, or for a field the form does not show, for a form-level alert', () => {
    const form = setup();
    let rest: ReturnType<typeof applyUserErrors> = [];
    act(() => {
      rest = applyUserErrors(form, [
        { field: null, code: 'FORBIDDEN', message: 'x' },
        { field: 'orgUnitId', code: 'NOT_FOUND', message: 'y' },
        { field: null, code: 'FORBIDDEN', message: 'duplicate entry is shown once' },
      ]);
    });
    expect(rest).toEqual([
      { code: 'FORBIDDEN', text: ERROR_MESSAGES.FORBIDDEN },
      { code: 'NOT_FOUND', text: ERROR_MESSAGES.NOT_FOUND },
    ]);
    expect(form.getFieldError('code')).toEqual([]);
  });

  it('joins several messages for the same field', () => {
    const form = setup();
    act(() => {
      applyUserErrors(form, [
        { field: 'code', code: 'INVALID_INPUT', message: 'a' },
        { field: 'code', code: 'DUPLICATE', message: 'b' },
      ]);
    });
    expect(form.getFieldError('code')).toEqual([ERROR_MESSAGES.INVALID_INPUT, ERROR_MESSAGES.DUPLICATE]);
  });
});

describe('the server’s Chinese text (messageZh)', () => {
  function setup() {
    let form!: FormInstance;
    render(<TestForm onReady={(f) => (form = f)} />);
    return form;
  }

  it('is shown beside the field before any text keyed by code, so the rule that failed is named', () => {
    const form = setup();
    act(() => {
      applyUserErrors(
        form,
        [
          { field: 'name', code: 'INVALID_INPUT', message: 'phone must be a mobile', messageZh: '「新就业形态劳动者」标签要求填写11位中国大陆手机号码（不能是固定电话）' },
          { field: 'code', code: 'DUPLICATE', message: 'duplicate', messageZh: null },
        ],
        { messages: { INVALID_INPUT: '输入不正确' } },
      );
    });
    expect(form.getFieldError('name')).toEqual(['「新就业形态劳动者」标签要求填写11位中国大陆手机号码（不能是固定电话）']);
    expect(form.getFieldError('code')).toEqual([ERROR_MESSAGES.DUPLICATE]); // no messageZh: the code's text
  });

  it('gives way to a form’s own text for that very field and code', () => {
    const form = setup();
    act(() => {
      applyUserErrors(form, [{ field: 'code', code: 'DUPLICATE', message: 'x', messageZh: '已存在相同的编码' }], {
        messages: { 'code.DUPLICATE': '该编码已被本省其他组织使用' },
      });
    });
    expect(form.getFieldError('code')).toEqual(['该编码已被本省其他组织使用']);
  });

  it('is ignored when it holds no Chinese (never English on screen)', () => {
    const form = setup();
    act(() => {
      applyUserErrors(form, [{ field: 'name', code: 'INVALID_INPUT', message: 'x', messageZh: 'name is required' }]);
    });
    expect(form.getFieldError('name')).toEqual([ERROR_MESSAGES.INVALID_INPUT]);
  });

  it('describes a top-level error by its extensions.messageZh', () => {
    const err = new ApiError('INVALID_INPUT', 'bad check digit', 200, [{ message: 'bad check digit', extensions: { code: 'INVALID_INPUT', messageZh: '身份证号码校验位不正确' } }]);
    expect(describeError(err)).toBe('身份证号码校验位不正确');
  });
});

describe('retryAfterSeconds / formatWait', () => {
  it('reads retryAfter from a top-level error or a payload error, and nothing else', () => {
    const top = new ApiError('TOO_MANY_ATTEMPTS', 'too many', 200, [{ message: 'too many', extensions: { code: 'TOO_MANY_ATTEMPTS', retryAfter: 90.2 } }]);
    expect(retryAfterSeconds(top)).toBe(91);
    expect(retryAfterSeconds({ code: 'TOO_MANY_ATTEMPTS', retryAfter: '30' })).toBe(30);
    expect(retryAfterSeconds({ code: 'TOO_MANY_ATTEMPTS' })).toBeNull();
    expect(retryAfterSeconds(new ApiError('TOO_MANY_ATTEMPTS', 'too many'))).toBeNull();
    expect(retryAfterSeconds({ retryAfter: -5 })).toBeNull();
    // What the login mutation sends: the payload error's extensions.retryAfterSeconds.
    expect(retryAfterSeconds({ code: 'TOO_MANY_ATTEMPTS', extensions: { retryAfterSeconds: 120 } })).toBe(120);
    const topSeconds = new ApiError('TOO_MANY_ATTEMPTS', 'too many', 200, [{ message: 'too many', extensions: { code: 'TOO_MANY_ATTEMPTS', retryAfterSeconds: 45 } }]);
    expect(retryAfterSeconds(topSeconds)).toBe(45);
  });

  it('says the wait in Chinese', () => {
    expect(formatWait(45)).toBe('45 秒');
    expect(formatWait(900)).toBe('15 分钟');
    expect(formatWait(754)).toBe('12 分 34 秒');
  });
});
