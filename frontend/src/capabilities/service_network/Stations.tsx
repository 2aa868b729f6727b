/** 驿站管理: the stations of your subtree on a map drawn from their coordinates, the list, the form,
 *  and what the public finder (no login) answers around a station. */
import { useState } from 'react';
import { Alert, Button, Card, Checkbox, List, Space, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { useAuth } from '../../auth/AuthProvider';
import { SnStationsDocument, type StationFieldsFragment } from '../../graphql/generated';
import { StationMap } from './StationMap';
import { StationForm } from './StationForm';
import { Stars, distanceText, fetchNearby, hoursText, useListSource, useUnitNames, type NearbyStation } from './common';

type Station = StationFieldsFragment;

/** What the province's rating rule was given: the stars come from the station_rating hook. */
export function starBasis(s: Station, checklist: number): string {
  return `按本省驿站星级规则评定：面积 ${s.areaM2} ㎡，可容纳 ${s.capacity} 人，设施 ${s.facilities.length}/${checklist} 项`;
}

function PublicPreview({ tenantCode, station }: { tenantCode: string; station: Station }) {
  const [openNow, setOpenNow] = useState(false);
  const [state, setState] = useState<{ loading: boolean; error?: string; found?: NearbyStation[]; radiusM?: number }>({ loading: false });
  const run = async () => {
    setState({ loading: true });
    try {
      const r = await fetchNearby(tenantCode, { lat: station.lat, lon: station.lon, n: 10, openNow });
      setState({ loading: false, found: r.stations, radiusM: r.radiusM });
    } catch (e) {
      setState({ loading: false, error: (e as Error).message });
    }
  };
  return (
    <Card size="small" title={`公众查询预览：${station.name} 附近`} className="hj-panel-flow" style={{ marginTop: 12 }}>
      <Space wrap style={{ marginBottom: 8 }}>
        <Checkbox checked={openNow} onChange={(e) => setOpenNow(e.target.checked)}>只看正在开放</Checkbox>
        <Button onClick={() => void run()} loading={state.loading}>查询附近驿站</Button>
        <Typography.Text type="secondary">与职工免登录查询看到的结果相同</Typography.Text>
      </Space>
      {state.error && <Alert type="error" showIcon message={state.error} />}
      {state.found && (
        <List
          size="small"
          aria-label="公众查询结果"
          dataSource={state.found}
          locale={{ emptyText: `${distanceText(state.radiusM ?? 0)}内没有符合条件的驿站` }}
          renderItem={(s) => (
            <List.Item key={s.number}>
              <span>{s.name}（{s.number}）</span>
              <span>{distanceText(s.distanceM)}</span>
            </List.Item>
          )}
        />
      )}
    </Card>
  );
}

export default function Stations() {
  const { can, me } = useAuth();
  const canWrite = can('service_network.write');
  const unitName = useUnitNames();
  const source = useListSource(SnStationsDocument, {}, (d) => d.stations);
  const checklist = source.query.data?.stationFacilities ?? [];
  const labelOf = new Map(checklist.map((f) => [f.key, f.labelZh]));
  const [editing, setEditing] = useState<Station | 'new' | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const chosen = source.rows.find((s) => s.id === selected) ?? null;

  const columns: ColumnsType<Station> = [
    { title: '编号', dataIndex: 'number', width: 110 },
    { title: '名称', dataIndex: 'name', render: (n: string, r) => <a onClick={() => setSelected(r.id)}>{n}</a> },
    { title: '所属组织', dataIndex: 'orgUnitId', render: (id: string) => unitName(id), responsive: ['md'] },
    {
      title: '星级', dataIndex: 'stars',
      render: (v: number, r) => (
        <div>
          <Stars value={v} />
          <div style={{ fontSize: 12, color: '#888' }}>{starBasis(r, checklist.length)}</div>
        </div>
      ),
    },
    { title: '开放时间', dataIndex: 'hours', render: (h: Station['hours']) => hoursText(h), responsive: ['lg'] },
    {
      title: '设施', dataIndex: 'facilities', responsive: ['lg'],
      render: (f: string[]) => f.map((c) => <Tag key={c}>{labelOf.get(c) ?? c}</Tag>),
    },
    { title: '坐标（WGS-84）', key: 'coord', responsive: ['xl'], render: (_: unknown, r) => `${r.lat.toFixed(6)}, ${r.lon.toFixed(6)}` },
    ...(canWrite ? [{ title: '操作', key: 'actions', render: (_: unknown, r: Station) => <Button size="small" onClick={() => setEditing(r)}>编辑</Button> }] : []),
  ];

  return (
    <PageContainer title="驿站管理" subTitle="工会驿站、户外劳动者服务站点"
      extra={canWrite ? <Button type="primary" onClick={() => setEditing('new')}>新建驿站</Button> : null}>
      <Card size="small" title="驿站分布" className="hj-panel-flow" style={{ marginBottom: 12 }}>
        {source.rows.length ? (
          <StationMap
            points={source.rows.map((s) => ({ key: s.id, label: s.name, lat: s.lat, lon: s.lon, detail: `${s.stars}星` }))}
            selected={selected}
            onSelect={setSelected}
          />
        ) : (
          <Typography.Text type="secondary">{source.query.loading ? '加载中…' : '暂无驿站坐标'}</Typography.Text>
        )}
      </Card>
      {chosen && me && <PublicPreview key={chosen.id} tenantCode={me.tenant.code} station={chosen} />}
      <ConnectionTable<Station>
        source={source}
        columns={columns}
        emptyText={canWrite ? '暂无驿站，可点击“新建驿站”登记' : '暂无驿站'}
        rowClassName={(r) => (r.id === selected ? 'ant-table-row-selected' : '')}
      />
      {editing && (
        <StationForm
          station={editing === 'new' ? null : editing}
          facilities={checklist}
          onClose={() => setEditing(null)}
          onSaved={async (s) => {
            setEditing(null);
            setSelected(s.id);
            await source.refetch();
          }}
        />
      )}
    </PageContainer>
  );
}
