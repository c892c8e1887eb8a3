// A tool handler run as a command (examples/hydra.tools.json): the arguments arrive as JSON on stdin,
// the output is what it prints. No shell is involved.
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { order_id: id } = JSON.parse(input || '{}');
// Own keys only: an id such as "constructor" is not an order.
const orders = { A17: { status: 'shipped', eta: 'tomorrow' }, B42: { status: 'packing', eta: 'in 3 days' } };
process.stdout.write(JSON.stringify(Object.hasOwn(orders, id) ? { order_id: id, ...orders[id] } : { order_id: id, error: 'no such order' }));
