// Structured JSON logs (Powertools logger). Nothing that reaches a log may carry a secret: log ids, codes, counts.
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'tollgate' });
