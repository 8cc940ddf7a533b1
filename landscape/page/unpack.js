// What a landscape page's script starts with: its numbers unpacked (landscape/page/numbers.py: one
// compressed block of named typed arrays and the page's tables), its pictures decoded, its font loaded.
// Also where a click on a phase diagram falls, and how a page that cannot start says so. Defines one name,
// landscapeBlock; the page's own script (page.js, network.js) follows it in the same <script>.
const landscapeBlock = (function () {
  "use strict";

  function bytesOf(base64) {
    const text = atob(base64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  async function inflate(bytes) {
    if (typeof DecompressionStream === "undefined") {
      throw new Error("this browser cannot unpack the page's numbers (no DecompressionStream): " +
                      "open it in a browser from 2023 or later");
    }
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  const TYPES = {u8: Uint8Array, u16: Uint16Array, i16: Int16Array, f32: Float32Array};

  // one array of the block: its bytes are stored plane by plane, maybe as differences along its last axis
  function array(bytes, start, entry) {
    const Type = TYPES[entry.type], size = entry.shape.reduce((a, b) => a * b, 1);
    const width = Type.BYTES_PER_ELEMENT, joined = new Uint8Array(size * width);
    for (let plane = 0; plane < width; plane++) {
      const from = start + entry.offset + plane * size;
      for (let i = 0; i < size; i++) joined[i * width + plane] = bytes[from + i];
    }
    const values = new Type(joined.buffer);
    if (entry.differences) {
      const last = entry.shape[entry.shape.length - 1];
      for (let row = 0; row < size; row += last) {
        for (let i = row + 1; i < row + last; i++) values[i] += values[i - 1];  // wraps as Python's did
      }
    }
    return values;
  }

  // the block in the element with id `id`: {tables, arrays}
  async function unpack(id) {
    const bytes = await inflate(bytesOf(document.getElementById(id).textContent.trim()));
    const length = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
    const tables = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
    const arrays = {};
    for (const [name, entry] of Object.entries(tables.arrays)) arrays[name] = array(bytes, 4 + length, entry);
    return {tables, arrays};
  }

  // every picture of `sources` (name -> {src, x, y, w, h}) decoded, but the font
  async function pictures(sources) {
    const loaded = {};
    await Promise.all(Object.entries(sources).filter(([name]) => name !== "font").map(async ([name, source]) => {
      const image = new Image();
      image.src = source.src;
      await image.decode();
      loaded[name] = {...source, image};
    }));
    return loaded;
  }

  // a picture of `pictures` drawn where it goes (its x, y in page pixels), moved by (x, y); none: nothing
  function sprite(context, image, x = 0, y = 0) {
    if (image) context.drawImage(image.image, x + image.x, y + image.y, image.w, image.h);
  }

  // the font the page carries (a data: URL), under `name`
  async function font(name, source) {
    const face = new FontFace(name, bytesOf(source.slice(source.indexOf(",") + 1)).buffer);
    await face.load();
    document.fonts.add(face);
  }

  // the cell (i, j) of a phase diagram under a click on `element`, which shows a picture of `width` x
  // `height` page pixels; `phase` says where its axes are (box) and the edges between its cells, in
  // those pixels; null outside the axes
  function cellAt(event, element, phase, width, height) {
    const box = element.getBoundingClientRect();
    const x = (event.clientX - box.left) * width / box.width, y = (event.clientY - box.top) * height / box.height;
    const [bx, by, bw, bh] = phase.box;
    if (x < bx || x > bx + bw || y < by || y > by + bh) return null;
    return [phase.xEdges.filter((edge) => x > edge).length, phase.yEdges.filter((edge) => y < edge).length];
  }

  // run the page's `start` (async); if it fails, say so on the page, in its .problem line
  function started(start) {
    start().catch((error) => {
      const problem = document.querySelector(".landscape .problem");
      problem.textContent = `This page could not start: ${error.message}`;
      problem.hidden = false;
    });
  }

  return {bytesOf, unpack, pictures, sprite, font, cellAt, started};
})();
