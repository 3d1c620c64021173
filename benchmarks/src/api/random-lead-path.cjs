/* global process, module */
// autocannon's setupRequest for worker threads (a file, since functions cannot be cloned
// into a worker): each request asks about a random lead. The worker inherits the
// environment the benchmark set before starting it.
const template = process.env.BENCH_PATH_TEMPLATE;
const leads = Number(process.env.BENCH_LEADS);

module.exports = function setupRequest(request) {
  const id = 1 + Math.floor(Math.random() * leads);
  return { ...request, path: template.replace('{lead}', String(id)) };
};
