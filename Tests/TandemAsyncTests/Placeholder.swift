import Testing

@Test func asyncPlaceholder() {}
