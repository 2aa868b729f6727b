/** A labelled bar chart (ECharts core build with only what it needs; import it lazily). */
// The ESM build: the CommonJS one (lib/) arrives as { default } through Vite's interop.
import ReactEChartsCore from 'echarts-for-react/esm/core';
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, AriaComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, GridComponent, TooltipComponent, AriaComponent, CanvasRenderer]);

export interface BarDatum {
  label: string;
  value: number;
}

export default function BarChartView({ data, title, height = 280 }: { data: BarDatum[]; title: string; height?: number }) {
  const reduceMotion = typeof window !== 'undefined' && window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
  const option = {
    animation: !reduceMotion,
    aria: { enabled: true, label: { description: `${title}：${data.map((d) => `${d.label} ${d.value}`).join('，')}` } },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: data.map((d) => d.label), axisLabel: { interval: 0, hideOverlap: true } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { formatter: (v: number) => v.toLocaleString('zh-CN') } },
    series: [
      {
        type: 'bar',
        name: '组织数',
        data: data.map((d) => d.value),
        barMaxWidth: 48,
        itemStyle: { color: '#c8161d', borderRadius: [4, 4, 0, 0] },
        label: { show: true, position: 'top', formatter: (p: { value: number }) => p.value.toLocaleString('zh-CN') },
      },
    ],
  };
  // ECharts' aria option gives the chart container role="img" and this description.
  return <ReactEChartsCore echarts={echarts} option={option} style={{ height, width: '100%' }} notMerge lazyUpdate />;
}
