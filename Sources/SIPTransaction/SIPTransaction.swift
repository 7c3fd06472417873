// Placeholder: SIPTransaction
