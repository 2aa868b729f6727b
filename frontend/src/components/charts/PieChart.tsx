/** A labelled pie (donut) chart. ECharts core build; import it lazily. */
import ReactEChartsCore from 'echarts-for-react/esm/core';
import * as echarts from 'echarts/core';
import { PieChart } from 'echarts/charts';
import { AriaComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([PieChart, LegendComponent, TooltipComponent, AriaComponent, CanvasRenderer]);

export interface PieDatum {
  label: string;
  value: number;
}

const COLORS = ['#c8161d', '#fa8c16', '#fadb14', '#52c41a', '#13c2c2', '#1677ff', '#722ed1', '#eb2f96'];

export default function PieChartView({ data, title, height = 300, unit = '' }: { data: PieDatum[]; title: string; height?: number; unit?: string }) {
  const reduceMotion = typeof window !== 'undefined' && window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
  const option = {
    animation: !reduceMotion,
    color: COLORS,
    aria: { enabled: true, label: { description: `${title}：${data.map((d) => `${d.label} ${d.value}${unit}`).join('，')}` } },
    tooltip: { trigger: 'item', valueFormatter: (v: number) => `${v.toLocaleString('zh-CN')}${unit}` },
    legend: { type: 'scroll', bottom: 0 },
    series: [
      {
        type: 'pie',
        name: title,
        radius: ['40%', '68%'],
        center: ['50%', '45%'],
        avoidLabelOverlap: true,
        label: { formatter: '{b}\n{d}%' },
        data: data.map((d) => ({ name: d.label, value: d.value })),
      },
    ],
  };
  return <ReactEChartsCore echarts={echarts} option={option} style={{ height, width: '100%' }} notMerge lazyUpdate />;
}
