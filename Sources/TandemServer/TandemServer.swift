// Placeholder: TandemServer
