import { Select } from 'antd';
import { useGql } from '../../api/useGql';
import { LoginTenantsDocument } from '../../graphql/generated';

/** The provinces a worker can belong to (the platform tenant is not one). */
export function ProvinceSelect(props: { value?: string; onChange?: (v: string) => void; id?: string }) {
  const { data, loading, error } = useGql(LoginTenantsDocument);
  return (
    <Select
      id={props.id}
      value={props.value}
      onChange={props.onChange}
      loading={loading}
      placeholder={error ? '省份列表加载失败，请刷新' : '请选择所在省（市）'}
      options={(data?.loginTenants ?? []).map((t) => ({ value: t.code, label: t.name }))}
    />
  );
}
