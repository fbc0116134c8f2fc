import { Link } from 'react-router';
import { PageHeading } from '../components/PageHeading';

export function NotFoundPage() {
  return (
    <div className="card">
      <PageHeading title="Page not found" />
      <p>There's nothing at this address.</p>
      <p>
        <Link to="/">Back to your feed</Link>
      </p>
    </div>
  );
}
