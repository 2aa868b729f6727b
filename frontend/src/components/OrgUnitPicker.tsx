/** Pick an org unit by typing part of its name (searches orgUnits(filter:{nameContains})). */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Select, Typography } from 'antd';
import { gql } from '../api/client';
import { OrgUnitsPageDocument, type OrgUnitsPageQuery } from '../graphql/generated';
import { LEVEL_LABELS } from '../lib/labels';

type Unit = OrgUnitsPageQuery['orgUnits']['nodes'][number];

export interface OrgUnitPickerProps {
  id?: string;
  value?: string;
  onChange?: (value: string | undefined) => void;
  /** Units that cannot be chosen (e.g. the unit being moved). */
  excludeIds?: string[];
  placeholder?: string;
  disabled?: boolean;
  'aria-label'?: string;
  initialOption?: { id: string; name: string };
}

export function OrgUnitPicker({ id, value, onChange, excludeIds = [], placeholder = '输入名称搜索组织', disabled, initialOption, ...rest }: OrgUnitPickerProps) {
  const [options, setOptions] = useState<Unit[]>([]);
  const [loading, setLoading] = useState(false);
  const [failed, setFailed] = useState(false);
  const seq = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout>>();

  const search = (text: string) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(async () => {
      const mine = ++seq.current;
      setLoading(true);
      try {
        const data = await gql(OrgUnitsPageDocument, { filter: { nameContains: text.trim() || null, active: true }, first: 30 });
        if (mine === seq.current) {
          setOptions(data.orgUnits.nodes);
          setFailed(false);
        }
      } catch {
        if (mine === seq.current) setFailed(true);
      } finally {
        if (mine === seq.current) setLoading(false);
      }
    }, 250);
  };

  useEffect(() => {
    search('');
    return () => clearTimeout(timer.current);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const items = useMemo(() => {
    const list = options.filter((u) => !excludeIds.includes(u.id));
    const opts = list.map((u) => ({
      value: u.id,
      label: u.name,
      title: `${u.name}（${u.code}）`,
      desc: `${LEVEL_LABELS[u.level]} · ${u.code}`,
    }));
    if (initialOption && !opts.some((o) => o.value === initialOption.id)) {
      opts.unshift({ value: initialOption.id, label: initialOption.name, title: initialOption.name, desc: '' });
    }
    return opts;
  }, [options, excludeIds, initialOption]);

  return (
    <Select
      id={id}
      value={value}
      onChange={onChange}
      showSearch
      allowClear
      disabled={disabled}
      filterOption={false}
      onSearch={search}
      loading={loading}
      placeholder={placeholder}
      aria-label={rest['aria-label']}
      notFoundContent={loading ? '搜索中…' : failed ? '搜索失败，请重试' : '没有匹配的组织'}
      options={items}
      optionRender={(opt) => (
        <div>
          <div>{opt.data.label}</div>
          {opt.data.desc ? (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {opt.data.desc}
            </Typography.Text>
          ) : null}
        </div>
      )}
    />
  );
}
