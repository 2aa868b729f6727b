/** A labelled bar chart (ECharts core build with only what it needs; import it lazily). */
import ReactEChartsCore from 'echarts-for-react/lib/core';
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
  const option = {
    aria: { enabled: true, label: { description: `${title}：${data.map((d) => `${d.label}${d.value}个`).join('，')}` } },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: data.map((d) => d.label), axisLabel: { interval: 0, hideOverlap: true } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      {
        type: 'bar',
        name: '组织数',
        data: data.map((d) => d.value),
        barMaxWidth: 48,
        itemStyle: { color: '#c8161d', borderRadius: [4, 4, 0, 0] },
        label: { show: true, position: 'top' },
      },
    ],
  };
  return (
    <div role="img" aria-label={`${title}：${data.map((d) => `${d.label} ${d.value} 个`).join('，')}`}>
      <ReactEChartsCore echarts={echarts} option={option} style={{ height, width: '100%' }} notMerge lazyUpdate />
    </div>
  );
}
