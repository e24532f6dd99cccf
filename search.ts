/**
 * search: a seeded, resumable search over a family's strategies, for families that have one (job-memory);
 * it writes a summary file that `npm run train -- --strategy FILE` reads.
 *   npm run search -- --family job-memory --data ../shared/data/galaxy/bowtie2.csv --trials 20
 */
import { familyArg, runMain } from './src/util/cli.js';
import { UserError } from './src/util/errors.js';
import { FAMILIES, getFamily } from './src/families/registry.js';

runMain(async () => {
  const name = familyArg();
  const withSearch = FAMILIES.filter((f) => f.training.search).map((f) => f.name);
  if (!name) throw new UserError(`--family is required (families with a search: ${withSearch.join(', ')})`);
  const family = getFamily(name);
  if (!family.training.search) throw new UserError(`--family ${name} has no strategy search (families with one: ${withSearch.join(', ')})`);
  await family.training.search(process.argv.slice(2));
});
