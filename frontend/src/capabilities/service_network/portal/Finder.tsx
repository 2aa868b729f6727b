/** 附近驿站: the public finder (no login needed on the server side) by distance, with the same SVG plot. */
import { useState } from 'react';
import { Link } from 'react-router';
import { Alert, Button, Card, Checkbox, Col, Form, InputNumber, List, Row, Select, Space } from 'antd';
import { getState } from '../../../auth/session';
import { StationMap } from '../StationMap';
import { Stars, distanceText, fetchNearby, type NearbyStation } from '../common';

/** Labels of the common checklist codes (Wuhan's 七个一, 永城's 六有, Fuzhou's AED); others show as listed. */
export const FACILITY_LABELS: Record<string, string> = {
  room: '休息室', tables: '桌椅', microwave: '微波炉', water: '饮水机', climate: '冷暖设备', fridge: '冰箱', first_aid: '急救箱', aed: 'AED',
};

interface Values { lat?: number; lon?: number; openNow?: boolean; facility?: string }

export default function Finder() {
  const tenantCode = getState().session?.tenantCode ?? '';
  const [form] = Form.useForm<Values>();
  const [result, setResult] = useState<{ origin: { lat: number; lon: number }; stations: NearbyStation[]; radiusM: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);

  const search = async (v: Values) => {
    if (v.lat === undefined || v.lon === undefined) return;
    setBusy(true);
    setError(null);
    try {
      const r = await fetchNearby(tenantCode, { lat: v.lat, lon: v.lon, n: 20, openNow: !!v.openNow, facility: v.facility });
      setResult({ origin: { lat: v.lat, lon: v.lon }, ...r });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const locate = () => {
    if (!navigator.geolocation) {
      setError('当前浏览器无法获取位置，请手动输入坐标');
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => {
        form.setFieldsValue({ lat: Number(p.coords.latitude.toFixed(6)), lon: Number(p.coords.longitude.toFixed(6)) });
        void search(form.getFieldsValue());
      },
      () => setError('未能获取您的位置，请检查定位权限或手动输入坐标'),
      { timeout: 10_000 },
    );
  };

  return (
    <>
      <h1 className="hj-portal-title">附近驿站</h1>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Form form={form} layout="vertical" name="sn-finder" onFinish={(v) => void search(v)}>
          <Row gutter={8}>
            <Col span={12}>
              <Form.Item label="纬度" name="lat" rules={[{ required: true, message: '请输入纬度' }]}>
                <InputNumber style={{ width: '100%' }} step={0.0001} inputMode="decimal" />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item label="经度" name="lon" rules={[{ required: true, message: '请输入经度' }]}>
                <InputNumber style={{ width: '100%' }} step={0.0001} inputMode="decimal" />
              </Form.Item>
            </Col>
          </Row>
          <Space wrap style={{ marginBottom: 8 }}>
            <Form.Item name="openNow" valuePropName="checked" noStyle>
              <Checkbox>只看正在开放</Checkbox>
            </Form.Item>
            <Form.Item name="facility" noStyle>
              <Select aria-label="设施" allowClear placeholder="需要的设施" style={{ width: 140 }}
                options={Object.entries(FACILITY_LABELS).map(([value, label]) => ({ value, label }))} />
            </Form.Item>
          </Space>
          <Space style={{ width: '100%' }} direction="vertical">
            <Button type="primary" htmlType="submit" block loading={busy}>查找附近驿站</Button>
            <Button block onClick={locate}>使用我的位置</Button>
          </Space>
        </Form>
      </Card>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      {result && (
        <>
          <Card size="small" style={{ marginBottom: 12 }}>
            <StationMap
              title="附近驿站示意图"
              origin={result.origin}
              points={result.stations.map((s) => ({ key: s.number, label: s.name, lat: s.lat, lon: s.lon, detail: distanceText(s.distanceM) }))}
              selected={selected}
              onSelect={setSelected}
            />
          </Card>
          <Card size="small" title={`共 ${result.stations.length} 个（由近到远）`}>
            <List
              aria-label="附近驿站"
              dataSource={result.stations}
              locale={{ emptyText: `${distanceText(result.radiusM)}内没有符合条件的驿站` }}
              renderItem={(s) => (
                <List.Item key={s.number} data-testid="finder-station" style={selected === s.number ? { background: '#fff7e6' } : undefined}
                  actions={[<Link key="c" to={`/stations/check-in?number=${encodeURIComponent(s.number)}`}>签到</Link>]}>
                  <List.Item.Meta
                    title={<>{s.name} <span style={{ color: '#c8161d', fontWeight: 400 }}>{distanceText(s.distanceM)}</span></>}
                    description={
                      <>
                        <div>{s.address}</div>
                        <Stars value={s.stars} />
                        {s.facilities.length > 0 && <div style={{ fontSize: 12 }}>设施：{s.facilities.map((f) => FACILITY_LABELS[f] ?? f).join('、')}</div>}
                        {s.homeName && <div style={{ fontSize: 12 }}>同址职工之家：{s.homeName}</div>}
                      </>
                    }
                  />
                </List.Item>
              )}
            />
          </Card>
        </>
      )}
    </>
  );
}
