import { Result } from 'antd';
import { useLocation } from 'react-router';
import { PageContainer } from '../components/PageContainer';
import { matchEntry } from '../routes/access';
import { allScreens } from '../routes/registry';

/** A registered screen whose API has not landed yet. */
export default function Pending() {
  const { pathname } = useLocation();
  const entry = matchEntry(allScreens(), pathname);
  return (
    <PageContainer title={entry?.label ?? '建设中'}>
      <Result status="info" title="功能建设中" subTitle="该功能的接口尚未上线，上线后将在此提供。" />
    </PageContainer>
  );
}
