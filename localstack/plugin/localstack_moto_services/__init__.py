"""LocalStack Community providers that answer five Pro-only AWS APIs from the bundled moto backends."""
