/** The fields of a rating, inside a caller's antd Form: overall stars (1–5), optional dimensions (a
 *  station's 选址 卫生 物资 便利 功能, as `dims.<key>`) and a comment of at most 500 characters. 服务评价 and
 *  every 评价 button share them, so a worker rates everything the same way. */
import { Form, Input, Rate as StarInput } from 'antd';

export function RatingFields({ dimensions }: { dimensions?: Record<string, string> }) {
  return (
    <>
      <Form.Item label="总体评分" name="stars" rules={[{ required: true, message: '请打分（1至5星）' }]}>
        <StarInput aria-label="总体评分" />
      </Form.Item>
      {dimensions &&
        Object.entries(dimensions).map(([key, label]) => (
          <Form.Item key={key} label={label} name={['dims', key]}>
            <StarInput aria-label={label} />
          </Form.Item>
        ))}
      <Form.Item label="意见建议" name="comment">
        <Input.TextArea rows={3} maxLength={500} showCount />
      </Form.Item>
    </>
  );
}
