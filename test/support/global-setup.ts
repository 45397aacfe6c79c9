/**
 * Under CI the PostgreSQL suite is mandatory: a run that silently skipped it would report green for a
 * dialect it never tested.
 */
export default function setup(): void {
  if (process.env.CI === 'true' && !process.env.CAIRN_TEST_PG_URI) {
    throw new Error(
      'CI=true but CAIRN_TEST_PG_URI is not set: the PostgreSQL suite would be skipped. Run tests through .ci/run or scripts/test-postgres.sh.',
    );
  }
}
