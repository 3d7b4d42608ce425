'use strict';
// Class-heavy program: inheritance, getters/setters, static blocks, private methods.
class Shape {
  static count;
  static {
    Shape.count = 0;
  }

  #name;

  constructor(name) {
    this.#name = name;
    Shape.count++;
  }

  get name() {
    return this.#name;
  }

  set name(value) {
    this.#name = Shape.#normalise(value);
  }

  static #normalise(value) {
    return String(value).trim().toLowerCase();
  }

  area() {
    return 0;
  }

  describe() {
    return `${this.name}: ${this.#format(this.area())}`;
  }

  #format(value) {
    return value.toFixed(2);
  }
}

class Rect extends Shape {
  constructor(w, h) {
    super('rect');
    this.w = w;
    this.h = h;
  }

  area() {
    return this.w * this.h;
  }
}

class Square extends Rect {
  constructor(side) {
    super(side, side);
    this.name = '  SQUARE ';
  }

  get side() {
    return this.w;
  }

  set side(value) {
    this.w = value;
    this.h = value;
  }
}

class Circle extends Shape {
  #r;

  constructor(r) {
    super('circle');
    this.#r = r;
  }

  area() {
    return Math.PI * this.#r * this.#r;
  }
}

function main() {
  const shapes = [new Rect(2, 3), new Square(4), new Circle(1), new Rect(1, 5)];
  const square = shapes[1];
  square.side = 5;
  for (const s of shapes) console.log(s.describe());
  console.log(`shapes: ${Shape.count}, side: ${square.side}`);
}

main();
