import { Alert } from 'antd';
import type { FormLevelError } from '../api/errors';

/** Errors that belong to no visible field, shown at the top of a form. */
export function FormAlert({ errors }: { errors: FormLevelError[] }) {
  if (errors.length === 0) return null;
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      style={{ marginBottom: 16 }}
      message={errors.length === 1 ? errors[0].text : '操作未完成'}
      description={errors.length > 1 ? <ul className="hj-plain-list">{errors.map((e) => <li key={e.text}>{e.text}</li>)}</ul> : undefined}
    />
  );
}
