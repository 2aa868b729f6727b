import { useEffect, useRef, type ReactNode } from 'react';
import { Space, Typography } from 'antd';

/**
 * The page frame (like Ant Design Pro's PageContainer): an h1 that receives focus when the page
 * opens (so keyboard and screen-reader users land on the new page), actions, then content.
 */
export function PageContainer({
  title,
  subTitle,
  extra,
  children,
}: {
  title: ReactNode;
  subTitle?: ReactNode;
  extra?: ReactNode;
  children: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <section className="hj-page" aria-labelledby="hj-page-title">
      <header className="hj-page-header">
        <div className="hj-page-heading">
          <Typography.Title level={1} id="hj-page-title" ref={heading} tabIndex={-1} className="hj-page-title">
            {title}
          </Typography.Title>
          {subTitle ? <Typography.Text type="secondary">{subTitle}</Typography.Text> : null}
        </div>
        {extra ? (
          <Space wrap className="hj-page-extra">
            {extra}
          </Space>
        ) : null}
      </header>
      <div className="hj-page-body">{children}</div>
    </section>
  );
}
