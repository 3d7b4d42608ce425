// Throws from TypeScript (run through tsx): the stack must name .ts lines and columns.
interface Order {
  id: number;
  qty: number;
}

function validate(order: Order): Order {
  if (order.qty <= 0) throw new RangeError(`order ${order.id}: quantity must be positive`);
  return order;
}

function total(orders: Order[]): number {
  return orders.map((o: Order) => validate(o).qty).reduce((a: number, b: number) => a + b, 0);
}

console.log(total([{ id: 1, qty: 2 }]));
console.log(total([{ id: 2, qty: 1 }, { id: 3, qty: 0 }]));
