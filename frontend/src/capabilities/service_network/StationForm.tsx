/** 新建/编辑驿站: number, unit, coordinates (WGS-84 or GCJ-02), hours incl. QR windows, facilities checklist. */
import { Button, Checkbox, Col, Form, Input, InputNumber, Radio, Row, Select, Space, Switch, message } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { gql } from '../../api/client';
import { SnStationCreateDocument, SnStationUpdateDocument, type SnStationCreateMutation, type StationFieldsFragment, type StationInput } from '../../graphql/generated';
import { WINDOW_KINDS } from './common';

type Station = StationFieldsFragment;
interface WindowValues { start: string; end: string; kind: string; overnight?: boolean }
interface Values {
  orgUnitId: string; number: string; name: string; datum: string; lat: number; lon: number; address?: string;
  facilities?: string[]; areaM2?: number; capacity?: number; hours?: WindowValues[]; homeName?: string;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

export function toInput(v: Values): StationInput {
  return {
    orgUnitId: v.orgUnitId, number: v.number.trim(), name: v.name.trim(), datum: v.datum, lat: Number(v.lat), lon: Number(v.lon),
    address: (v.address ?? '').trim(), facilities: v.facilities ?? [], areaM2: v.areaM2 ?? 0, capacity: v.capacity ?? 0,
    hours: (v.hours ?? []).map((w) => ({ start: w.start.trim(), end: w.end.trim(), kind: w.kind, overnight: !!w.overnight })),
    homeName: v.homeName?.trim() || null,
  };
}

export function StationForm({ station, facilities, onClose, onSaved }: {
  station: Station | null;
  facilities: readonly { key: string; labelZh: string }[];
  onClose: () => void;
  onSaved: (s: Station) => void | Promise<void>;
}) {
  const initial: Partial<Values> = station
    ? { ...station, datum: 'wgs84', homeName: station.homeName ?? undefined, hours: station.hours.map((h) => ({ ...h })) }
    : { datum: 'wgs84', facilities: [], hours: [{ start: '08:00', end: '22:00', kind: 'staffed', overnight: false }] };
  return (
    <MutationDialog<Values, SnStationCreateMutation['stationCreate']>
      title={station ? `编辑驿站：${station.name}` : '新建驿站'}
      okText="保存"
      name="sn-station"
      width={640}
      onClose={onClose}
      initialValues={initial}
      mutate={async (v) =>
        station
          ? (await gql(SnStationUpdateDocument, { id: station.id, input: toInput(v) })).stationUpdate
          : (await gql(SnStationCreateDocument, { input: toInput(v) })).stationCreate
      }
      isDone={(r) => !!r.station}
      onDone={async (r) => {
        message.success(`已保存，星级评定为 ${r.station?.stars ?? '-'} 星`);
        if (r.station) await onSaved(r.station);
      }}
      errorOptions={{ messages: { 'number.DUPLICATE': '该驿站编号已被使用' } }}
    >
      <Row gutter={12}>
        <Col xs={24} sm={10}>
          <Form.Item label="驿站编号" name="number" rules={[{ required: true, whitespace: true, message: '请填写驿站编号' }]}>
            <Input maxLength={40} disabled={!!station} />
          </Form.Item>
        </Col>
        <Col xs={24} sm={14}>
          <Form.Item label="驿站名称" name="name" rules={[{ required: true, whitespace: true, message: '请填写驿站名称' }]}>
            <Input maxLength={100} />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item label="所属组织" name="orgUnitId" rules={[{ required: true, message: '请选择所属组织' }]}>
        <OrgUnitPicker />
      </Form.Item>
      <Form.Item label="坐标系" name="datum" extra="高德、腾讯地图上取的坐标为 GCJ-02，系统会换算为 WGS-84 保存">
        <Radio.Group options={[{ value: 'wgs84', label: 'WGS-84（GPS）' }, { value: 'gcj02', label: 'GCJ-02（高德/腾讯）' }]} />
      </Form.Item>
      <Row gutter={12}>
        <Col span={12}>
          <Form.Item label="纬度" name="lat" rules={[{ required: true, message: '请填写纬度' }]}>
            <InputNumber style={{ width: '100%' }} min={-90} max={90} step={0.000001} />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item label="经度" name="lon" rules={[{ required: true, message: '请填写经度' }]}>
            <InputNumber style={{ width: '100%' }} min={-180} max={180} step={0.000001} />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item label="地址" name="address">
        <Input maxLength={200} />
      </Form.Item>
      <Row gutter={12}>
        <Col span={12}>
          <Form.Item label="面积（㎡）" name="areaM2">
            <InputNumber style={{ width: '100%' }} min={0} max={100000} precision={0} />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item label="可容纳人数" name="capacity">
            <InputNumber style={{ width: '100%' }} min={0} max={100000} precision={0} />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item label="设施清单" name="facilities">
        <Checkbox.Group options={facilities.map((f) => ({ value: f.key, label: f.labelZh }))} />
      </Form.Item>
      <fieldset style={{ border: 0, padding: 0, margin: '0 0 12px' }}>
        <legend style={{ fontSize: 14, marginBottom: 8 }}>开放时间（每日；跨零点的时段请勾选“跨夜”）</legend>
        <Form.List name="hours">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f, i) => (
                <Space key={f.key} align="baseline" wrap style={{ display: 'flex', marginBottom: 4 }}>
                  <Form.Item name={[f.name, 'start']} label={`时段${i + 1}开始`} rules={[{ required: true, pattern: HHMM, message: '格式如 08:00' }]}>
                    <Input style={{ width: 80 }} placeholder="08:00" />
                  </Form.Item>
                  <Form.Item name={[f.name, 'end']} label="结束" rules={[{ required: true, pattern: HHMM, message: '格式如 22:00' }]}>
                    <Input style={{ width: 80 }} placeholder="22:00" />
                  </Form.Item>
                  <Form.Item name={[f.name, 'kind']} label="方式">
                    <Select style={{ width: 170 }} options={Object.entries(WINDOW_KINDS).map(([value, label]) => ({ value, label }))} />
                  </Form.Item>
                  <Form.Item name={[f.name, 'overnight']} label="跨夜" valuePropName="checked">
                    <Switch size="small" />
                  </Form.Item>
                  <Button type="text" aria-label={`删除时段${i + 1}`} icon={<MinusCircleOutlined />} onClick={() => remove(f.name)} />
                </Space>
              ))}
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ start: '', end: '', kind: 'qr', overnight: false })}>
                添加时段
              </Button>
            </>
          )}
        </Form.List>
      </fieldset>
      <Form.Item label="同址职工之家（会站家）" name="homeName">
        <Input maxLength={100} placeholder="可不填" />
      </Form.Item>
    </MutationDialog>
  );
}
